## mk/nn.mk: (empty until its module lands)

## mk/nn-fast.mk: (empty until its module lands)

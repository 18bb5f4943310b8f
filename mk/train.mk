## mk/train.mk: (empty until its module lands)

## mk/crop.mk: (empty until its module lands)

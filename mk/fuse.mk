## mk/fuse.mk: (empty until its module lands)

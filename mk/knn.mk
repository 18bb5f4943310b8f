## mk/knn.mk: (empty until its module lands)

## man/local.mk: hand-written manual pages.
dist_man_MANS += \
	man/hwi.7 \
	man/hwi-formats.5 \
	man/hwi-store.5 \
	man/hwi-vec.1

## man/local.mk: hand-written manual pages (tests/man.sh checks each
## program's page against its --help).
dist_man_MANS += \
	man/hwi.7 \
	man/hwi-crop.1 \
	man/hwi-detect.1 \
	man/hwi-embed.1 \
	man/hwi-eval.1 \
	man/hwi-formats.5 \
	man/hwi-fuse.1 \
	man/hwi-identify.1 \
	man/hwi-knn.1 \
	man/hwi-nn.5 \
	man/hwi-sheet.1 \
	man/hwi-split.1 \
	man/hwi-store.1 \
	man/hwi-store.5 \
	man/hwi-synth.1 \
	man/hwi-thresh.1 \
	man/hwi-train.1 \
	man/hwi-vec.1

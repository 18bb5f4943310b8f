## bench/local.mk: benchmarks (run by hand; see bench/README).
EXTRA_DIST += bench/README

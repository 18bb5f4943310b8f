# scale.mk: the demo (demo.mk, beside this file) at the competition's size,
# each stage measured: every program the demo runs goes through
# /usr/bin/time, and at the end one table gives per stage its wall time,
# CPU time (user + system) and peak memory (the largest of the stage's
# runs), then the demo's validation and test MAP@5.  From a build tree:
#
#     make -f ../data/scale.mk HWI_BIN=$PWD/bin HWI_DATADIR=../data
#
# in an empty folder (after `make install`: make -f
# /usr/local/share/hwi/scale.mk).  SCALE=full (25,361 train and 7,960 test
# photos) takes hours on two cores; SCALE=small checks the recipe in
# minutes.  Any demo.mk variable (SEED=2, SIZE=64, ...) passes through.
# A rerun measures only what the demo remakes (a stage with nothing to
# remake shows -); `make -f scale.mk clean` removes everything.

HWI_BIN =
HWI_DATADIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
BIN = $(if $(HWI_BIN),$(abspath $(HWI_BIN))/,)
DATA = $(abspath $(HWI_DATADIR))
SCALE = full
EPOCHS = 1
TIME = /usr/bin/time
# the demo's stages, in order; each is the program hwi-STAGE
STAGES = synth split crop train embed store knn fuse thresh
T = .times
# time's record of one run: wall s, user s, system s, peak RSS kB
timed = $(TIME) -a -o '$(CURDIR)/$(T)/$(1)' -f '%e %U %S %M' $(BIN)hwi-$(1)
STAGE_VARS = $(foreach s,$(STAGES),$(shell echo $(s) | tr a-z A-Z)="$(call timed,$(s))")

.PHONY: all table clean

all:
	rm -rf $(T) && mkdir $(T)
	$(MAKE) --no-print-directory -f '$(DATA)/demo.mk' HWI_BIN='$(abspath $(HWI_BIN))' \
	    HWI_DATADIR='$(DATA)' SCALE=$(SCALE) EPOCHS=$(EPOCHS) $(STAGE_VARS) \
	    EVAL='$(BIN)hwi-eval' > $(T)/demo.out 2>&1 || { tail -20 $(T)/demo.out >&2; exit 1; }
	@$(MAKE) --no-print-directory -f '$(lastword $(MAKEFILE_LIST))' table SCALE=$(SCALE) \
	    EPOCHS=$(EPOCHS)

table:
	@echo "demo at SCALE=$(SCALE) EPOCHS=$(EPOCHS): $$(nproc) cores, $$(uname -m)"
	@printf '%-8s %10s %10s %12s %5s\n' stage 'wall s' 'CPU s' 'peak RSS MB' runs
	@for s in $(STAGES); do \
	    if [ -s $(T)/$$s ]; then \
	        awk -v s=$$s 'NF == 4 && $$1 ~ /^[0-9.]+$$/ { w += $$1; c += $$2 + $$3; \
	            if ($$4 > m) m = $$4; n++ } \
	            END { printf "%-8s %10.1f %10.1f %12.0f %5d\n", s, w, c, m / 1024, n }' \
	            $(T)/$$s; \
	    else printf '%-8s %10s %10s %12s %5s\n' $$s - - - 0; fi; \
	done
	@for s in $(STAGES); do [ ! -f $(T)/$$s ] || cat $(T)/$$s; done | \
	    awk 'NF == 4 && $$1 ~ /^[0-9.]+$$/ { w += $$1; c += $$2 + $$3 } \
	    END { printf "%-8s %10.1f %10.1f\n", "total", w, c }'
	@sed -n '/^validation MAP@5/,$$p' $(T)/demo.out

clean:
	$(MAKE) --no-print-directory -f '$(DATA)/demo.mk' clean
	rm -rf $(T)

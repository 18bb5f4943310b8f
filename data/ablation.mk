# ablation.mk: the ablation table of the method (README, "Accuracy"): the
# demo (demo.mk, beside this file) once per row, each row in its own
# folder under ablation/, then one table of validation and test MAP@5 and
# run time per row, on the usual test set and on the shifted one
# (hwi-synth --shift: the same train photos, test photos under conditions
# train never shows).  From a build tree:
#
#     make -f ../data/ablation.mk HWI_BIN=$PWD/bin HWI_DATADIR=../data
#
# after `make install`: make -f /usr/local/share/hwi/ablation.mk.  Any
# demo.mk variable (SEED=2, EPOCHS=40, ...) passes through to every row;
# SETS=shift runs the shifted test set only, ROWS=... a subset of rows.
#
# A row either trains its own model (from = nothing) or starts from a
# copy of another row's folder (from = that row) and remakes only what its
# settings change: the rows that differ after training share one model,
# so their differences are the settings' alone.  A row's time is its own
# make's wall time (for a copied row, the time of what it remade).  A row
# with a second model (with = a trained row) copies that row's network in
# as MODEL2 (named after that row) instead of training it again.

HWI_BIN =
HWI_DATADIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
BIN = $(if $(HWI_BIN),$(abspath $(HWI_BIN))/,)
DATA = $(abspath $(HWI_DATADIR))
DEMO = $(MAKE) --no-print-directory -f '$(DATA)/demo.mk' HWI_BIN='$(abspath $(HWI_BIN))' \
	HWI_DATADIR='$(DATA)'
A = ablation
SETS = usual shift
MODEL = small

# row: label | from | demo.mk settings | files remade | scores submitted
# (full: the demo's submission; knn, softmax (fitted multiplier), softmax1
# (multiplier 1): that score alone with new_whale at a fitted threshold)
ROWS = softmax1 softmax whole knn fused detect detect60 rerank qe centroid tta tta-zoom \
	center avg 1strip arcface ensemble size64 size128 equalize nocenter noadapt
label_softmax1 = softmax only (multiplier 1)
label_softmax = + fitted multiplier
label_whole = whole photo (no box), fused
label_knn = box crop, 1-NN alone
label_fused = + 1-NN fusion (the demo)
label_detect = boxes from hwi-detect, fused
label_detect60 = boxes from hwi-detect (60 epochs), fused
label_rerank = + k-reciprocal re-ranking
label_qe = + query expansion (3, alpha 3)
label_centroid = + class centroids
label_tta = + TTA (flip)
label_tta-zoom = + TTA (flip, zoom)
label_center = center loss instead of ring loss
label_avg = average pooling instead of GeM 3.74
label_1strip = one strip instead of 4
label_arcface = ArcFace heads instead of linear
label_ensemble = two-model ensemble (+ ArcFace model)
label_size64 = input 64x64, fused
label_size128 = input 128x128, fused
label_equalize = histogram-equalised input, fused
label_nocenter = without hwi-knn --center
label_noadapt = without hwi-embed --adapt
from_softmax1 = fused
from_softmax = fused
from_knn = fused
from_detect = fused
from_detect60 = fused
from_rerank = fused
from_qe = fused
from_centroid = fused
from_tta = fused
from_tta-zoom = fused
vars_whole = BOXES=none
vars_detect = BOXES=detect DETECT_EPOCHS=15
vars_detect60 = BOXES=detect DETECT_EPOCHS=60
vars_rerank = KNN_FLAGS=--rerank
vars_qe = KNN_FLAGS=--qe=3
vars_centroid = KNN_FLAGS=--centroid
vars_tta = EMBED_FLAGS=--tta
vars_tta-zoom = EMBED_FLAGS=--tta=flip,zoom
vars_center = CFG=pcb-small-center
vars_avg = CFG=pcb-small-avg
vars_1strip = CFG=pcb-small-1strip
vars_arcface = CFG=pcb-small-arcface
from_ensemble = fused
with_ensemble = arcface
vars_ensemble = MODEL2=arcface CFG2=pcb-small-arcface
vars_size64 = SIZE=64
vars_size128 = SIZE=128
vars_equalize = CFG=pcb-small-eq
vars_nocenter = KNN_CENTER=
from_nocenter = fused
redo_nocenter = val.knn.tsv test.knn.tsv
vars_noadapt = EMBED_ADAPT=
from_noadapt = fused
redo_noadapt = $(redo_tta)
redo_rerank = val.knn.tsv test.knn.tsv
redo_qe = val.knn.tsv test.knn.tsv
redo_centroid = val.knn.tsv test.knn.tsv
redo_tta = train.feat val.feat test.feat train.logits val.logits test.logits
redo_tta-zoom = $(redo_tta)
score_softmax1 = softmax1
score_softmax = softmax
score_knn = knn

# the test side, remade for the shifted set
TESTSIDE = test.list test.pix test.feat test.logits test.knn.tsv test.softmax.tsv \
	test.fused.tsv submission.csv test.boxes.csv test.sm1.tsv abl.csv \
	test.*.feat test.*.logits test.*.tsv

.PHONY: all table clean
.DELETE_ON_ERROR:
all: table

# score DIR STAGE: val.abl.csv and abl.csv, the submissions of STAGE
define score
	cd $(1) && case '$(2)' in \
	full) cp val.submission.csv val.abl.csv && cp submission.csv abl.csv; exit ;; \
	knn) v=val.knn.tsv; t=test.knn.tsv ;; \
	softmax) v=val.softmax.tsv; t=test.softmax.tsv ;; \
	softmax1) $(BIN)hwi-fuse --softmax --multiplier=1 -o val.sm1.tsv val.logits && \
	    $(BIN)hwi-fuse --softmax --multiplier=1 -o test.sm1.tsv test.logits && \
	    v=val.sm1.tsv; t=test.sm1.tsv ;; \
	esac && \
	$(BIN)hwi-thresh --fit split/val.csv -r abl.fit -o val.abl.csv $$v && \
	$(BIN)hwi-thresh $$(awk -F '\t' '$$1 == "thresh" { print $$6 }' abl.fit) \
	    -i test.list -o abl.csv $$t
endef

# result DIR SET ROW: DIR/result.tsv, "row set val_map5 test_map5 seconds"
define result
	printf '%s\t%s\t%s\t%s\t%s\n' '$(3)' '$(2)' \
	    "$$($(BIN)hwi-eval $(1)/split/val.csv $(1)/val.abl.csv | sed -n 's/^map5\t//p')" \
	    "$$($(BIN)hwi-eval $(1)/$(if $(filter shift,$(2)),shifted,data)/solution.csv \
	        $(1)/abl.csv | sed -n 's/^map5\t//p')" \
	    "$$(cat $(1)/seconds)" > $(1)/result.tsv
endef

# the shifted data set, made once for every row
$(A)/shifted/train.csv:
	mkdir -p $(A)
	cd $(A) && $(DEMO) shifted/.hwi-synth

# row ROW: its usual and shifted folders
define row
$(A)/$(1)/usual/result.tsv: $(if $(from_$(1)),$(A)/$(from_$(1))/usual/result.tsv) \
	$(if $(with_$(1)),$(A)/$(with_$(1))/usual/result.tsv)
	rm -rf $(A)/$(1)/usual
	mkdir -p $(A)/$(1)
	$(if $(from_$(1)),cp -a $(A)/$(from_$(1))/usual $(A)/$(1)/usual,mkdir -p $(A)/$(1)/usual)
	cd $(A)/$(1)/usual && rm -f $(redo_$(1)) abl.fit result.tsv seconds
	$(if $(with_$(1)),cd $(A)/$(1)/usual && $(foreach x,cfg weights labels,\
	    cp -p ../../$(with_$(1))/usual/$(MODEL).$(x) $(with_$(1)).$(x) &&) :)
	s=$$$$(date +%s) && cd $(A)/$(1)/usual && \
	    $(DEMO) $(vars_$(1)) $(if $(from_$(1)),-o $(MODEL).weights) \
	        $(if $(with_$(1)),-o $(with_$(1)).weights) submission.csv val.submission.csv && \
	    echo $$$$(($$$$(date +%s) - s)) > seconds
	$$(call score,$(A)/$(1)/usual,$(or $(score_$(1)),full))
	$$(call result,$(A)/$(1)/usual,usual,$(1))
$(A)/$(1)/shift/result.tsv: $(A)/$(1)/usual/result.tsv $(A)/shifted/train.csv
	rm -rf $(A)/$(1)/shift
	cp -a $(A)/$(1)/usual $(A)/$(1)/shift
	cd $(A)/$(1)/shift && rm -rf $(TESTSIDE) result.tsv seconds shifted && \
	    ln -s ../../shifted shifted
	s=$$$$(date +%s) && cd $(A)/$(1)/shift && \
	    $(DEMO) SHIFT=1 $(vars_$(1)) -o $(MODEL).weights \
	        $(if $(with_$(1)),-o $(with_$(1)).weights) submission.csv && \
	    echo $$$$(($$$$(date +%s) - s)) > seconds
	$$(call score,$(A)/$(1)/shift,$(or $(score_$(1)),full))
	$$(call result,$(A)/$(1)/shift,shift,$(1))
endef
$(foreach r,$(ROWS),$(eval $(call row,$(r))))

RESULTS = $(foreach r,$(ROWS),$(foreach s,$(SETS),$(A)/$(r)/$(s)/result.tsv))

# The table: a row's val MAP@5 (new_whale at its fitted threshold), test
# MAP@5 on each set, and seconds (usual set).
table: $(RESULTS)
	@printf '%-36s %7s %7s %7s %7s\n' row val test shifted seconds
	@$(foreach r,$(ROWS),awk -F '\t' -v l='$(label_$(r))' \
	    '$$2 == "usual" { v = $$3; t = $$4; s = $$5 } $$2 == "shift" { h = $$4 } \
	     END { printf "%-36s %7.3f %7s %7s %7s\n", l, v, \
	         t == "" ? "-" : sprintf("%.3f", t), h == "" ? "-" : sprintf("%.3f", h), \
	         s == "" ? "-" : s }' \
	    $(wildcard $(A)/$(r)/*/result.tsv);)

clean:
	rm -rf $(A)

# demo.mk: the whole method of hwi(7) on a synthetic data set, as a
# Makefile a Kaggler would write.  From a build tree: `make demo`; after
# `make install`:
#
#     make -f /usr/local/share/hwi/demo.mk
#
# in an empty folder.  Everything happens in the current folder (demo/
# with `make demo`); `make -f demo.mk clean` removes it.  Each stage prints
# the validation MAP@5 it reaches; the last line is the MAP@5 of the test
# submission.
#
# A changed setting reruns exactly the stages it affects: `make -f demo.mk
# EPOCHS=5` after a run retrains and redoes everything after training, and
# nothing before it; SCALE= makes a new data set and redoes everything.
#
# Your own data: put a data set in the competition's layout in data/
# (train/, test/, train.csv, bounding_boxes.csv, and solution.csv if you
# have the test truth) before the first run, and the demo runs on it
# instead; hwi-synth never touches a data/ folder it did not make.
#
#   hwi-synth   photos, train.csv, bounding_boxes.csv, solution.csv
#   hwi-split   one image of every whale with >= 2 images + some new_whale
#               -> validation; the rest -> training
#   hwi-crop    SIZE x SIZE grayscale crops of the fluke boxes (pixel streams)
#   hwi-train   the small PCB ring-head network, new_whale left out;
#               train.log, and `make -f demo.mk curves` draws it
#   hwi-embed   features + logits of every image, the batch norms adapted
#               to each set's conditions (--adapt)
#   hwi-store   the gallery (train, then train + val for the test)
#   hwi-knn     1-NN similarity per whale, gallery and queries each
#               centred on their mean (--center)     -> val MAP@5 (knn)
#   hwi-fuse    softmax(c * logits), then knn + softmax with weights fitted
#               on validation                       -> val MAP@5 (fused)
#               (MODEL2=NAME: a second network's knn and softmax too)
#   hwi-thresh  new_whale threshold fitted on validation -> val MAP@5
#   hwi-eval    MAP@5 of submission.csv against the test truth

# Where the programs are (empty: on PATH), and the network files (by
# default beside this file, which is installed with them).
HWI_BIN =
HWI_DATADIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
BIN = $(if $(HWI_BIN),$(HWI_BIN)/,)
export HWI_DATADIR

SCALE = small
SEED = 1
# SIZE: the crops' side in pixels, a multiple of 64 for pcb-small (its
# last map, SIZE/16 wide, is cut into 4 strips).  128 measured better than
# 64 on every test set (README, "The ablation table"), at about three times
# the training time.
SIZE = 128
CFG = pcb-small
EPOCHS = 80
LR = 0.02
BATCH = 32
THREADS = 0
MODEL = small
# SHIFT=1: the test photos come from `hwi-synth --shift` (same train photos,
# test photos under conditions train never shows) in shifted/.  Extra
# options of single steps: TRAIN_FLAGS (e.g. --augment=noise=0.03),
# EMBED_FLAGS (e.g. --tta), KNN_FLAGS (e.g. --rerank, --qe=3, --centroid).
SHIFT =
# Adaptation to each set's conditions (README, "Unseen conditions"): the
# shifted test set's MAP@5 from 0.350 to 0.423 on average over three
# seeds, the usual one level (0.693, 0.692): EMBED_ADAPT, hwi-embed
# --adapt (every set's embeddings with the batch norms adapted to that
# set), and KNN_CENTER, hwi-knn --center (the gallery and the queries each
# centred on their own mean).  EMBED_ADAPT= and KNN_CENTER= turn them off.
EMBED_ADAPT = --adapt
KNN_CENTER = --center
TRAIN_FLAGS =
EMBED_FLAGS =
KNN_FLAGS =
# MODEL2=NAME: an ensemble, the original's R50 + R152 step.  A second
# network NAME (the shipped CFG2, seed SEED2, the same crops, epochs and
# rates) is trained beside MODEL; its knn and softmax scores are fused with
# MODEL's, the four weights fitted on validation by coordinate ascent
# (hwi-fuse --search=ascent).  NAME names its files (NAME.weights,
# val.NAME.knn.tsv, ...); CFG2=pcb-small-arcface pairs the ring head with
# ArcFace heads.
MODEL2 =
CFG2 = $(CFG)
SEED2 = $(shell expr '$(SEED)' + 1)
TESTDATA = $(if $(SHIFT),shifted,data)

SYNTH = $(BIN)hwi-synth
SPLIT = $(BIN)hwi-split
CROP = $(BIN)hwi-crop
TRAIN = $(BIN)hwi-train
EMBED = $(BIN)hwi-embed
STORE = $(BIN)hwi-store
KNN = $(BIN)hwi-knn
FUSE = $(BIN)hwi-fuse
THRESH = $(BIN)hwi-thresh
EVAL = $(BIN)hwi-eval

# The options a fit report (TSV: stage, queries, map5, threshold, map5_nw,
# options) gives for STAGE: $(call fitted,STAGE,REPORT)
fitted = $$(awk -F '\t' '$$1 == "$(1)" { print $$6 }' $(2))

.PHONY: all report curves clean
.DELETE_ON_ERROR:

all: report

# Settings stamps.  .stamp/STAGE holds the settings STAGE's outputs depend
# on, SETTINGS_STAGE below; it is rewritten (when make reads this file, so
# `make -n` shows the truth) only when they differ from the last run's, and
# the stage's outputs depend on it, so make's timestamps rerun that stage
# and everything after it.  A new knob of a stage is one word on its line.
SETTINGS_synth = scale=$(SCALE) seed=$(SEED)
SETTINGS_split = seed=$(SEED)
# views=1: a detector trained with refinement views (hwi-detect --refine);
# an older folder's detector, trained without, is retrained once
SETTINGS_detect = epochs=$(DETECT_EPOCHS) seed=$(SEED) views=1
SETTINGS_crop = size=$(SIZE) boxes=$(BOXES) shift=$(SHIFT) \
	$(if $(filter detect,$(BOXES)),margin=$(DETECT_MARGIN))
SETTINGS_net = cfg=$(CFG) size=$(SIZE)
# (an old folder's stamp, from before TRAIN_FLAGS, stays valid without it)
SETTINGS_train = $(strip epochs=$(EPOCHS) lr=$(LR) batch=$(BATCH) seed=$(SEED) \
	$(if $(TRAIN_FLAGS),flags=$(TRAIN_FLAGS)))
SETTINGS_embed = adapt=$(EMBED_ADAPT) flags=$(EMBED_FLAGS)
SETTINGS_knn = center=$(KNN_CENTER) flags=$(KNN_FLAGS)
SETTINGS_net2 = cfg=$(CFG2) size=$(SIZE)
SETTINGS_train2 = $(strip epochs=$(EPOCHS) lr=$(LR) batch=$(BATCH) seed=$(SEED2) \
	$(if $(TRAIN_FLAGS),flags=$(TRAIN_FLAGS)))
SETTINGS_fuse = models=$(strip $(MODEL) $(MODEL2))

# The data set is the user's when data/train.csv exists and hwi-synth did
# not make it (no data/.hwi-synth): then no stage makes or removes data/.
USER_DATA := $(if $(wildcard data/train.csv),$(if $(wildcard data/.hwi-synth),,yes),)
DATA = $(if $(USER_DATA),data/train.csv,data/.hwi-synth)
STAMPED = $(if $(USER_DATA),,synth) split detect crop net train embed knn fuse \
	$(if $(MODEL2),net2 train2)

same = $(and $(findstring x$(1),x$(2)),$(findstring x$(2),x$(1)))
# (done at the end of this file, once every setting has its value)
restamp = $(if $(call same,$(file <.stamp/$(1)),$(SETTINGS_$(1))),,$(file >.stamp/$(1),$(SETTINGS_$(1))))

# 1. the data set, in the competition's layout, made in data.tmp and
#    moved into place whole
data/.hwi-synth: .stamp/synth
	@if [ -e data ] && [ ! -e $@ ]; then \
	    echo 'demo.mk: data/ was not made by hwi-synth: not touching it (data/train.csv missing?)' >&2; \
	    exit 1; fi
	rm -rf data.tmp
	$(SYNTH) --scale $(SCALE) --seed $(SEED) --quiet data.tmp
	touch data.tmp/.hwi-synth
	rm -rf data && mv data.tmp data
shifted/.hwi-synth: .stamp/synth
	rm -rf shifted
	$(SYNTH) --scale $(SCALE) --seed $(SEED) --shift --quiet shifted.tmp
	touch shifted.tmp/.hwi-synth
	mv shifted.tmp shifted

# 2. validation split: one image of every whale with two or more, and
#    some new_whale images; the rest is for training
#    (val.csv comes with train.csv; its empty recipe lets make -n and -t
#    follow it, which a grouped target does not)
split/val.csv: split/train.csv ;
split/train.csv: $(DATA) .stamp/split
	mkdir -p split
	$(SPLIT) --seed $(SEED) --train split/train.csv --val split/val.csv data/train.csv

# BOXES=given (the data set's boxes), detect (hwi-detect trained on the
# training photos' boxes predicts the boxes of the validation and test
# photos), or none (whole photos).
BOXES = given
DETECT = $(BIN)hwi-detect
# 150 detector epochs: test mean IoU 0.81-0.83 on three seeds against
# 0.78 at 60, shifted 0.62-0.65 against 0.53 (README); about 8 CPU minutes
DETECT_EPOCHS = 150
VAL_BOXES_given = -b data/bounding_boxes.csv
TEST_BOXES_given = -b $(TESTDATA)/bounding_boxes.csv
# predicted boxes are cropped with a margin of DETECT_MARGIN (hwi-crop
# --margin) instead of the given boxes' 0.1: the best of 0, 0.05, 0.1,
# 0.15 and 0.2 on validation (README, "Where the box comes from")
DETECT_MARGIN = 0.05
VAL_BOXES_detect = -b val.boxes.csv --margin=$(DETECT_MARGIN)
TEST_BOXES_detect = -b test.boxes.csv --margin=$(DETECT_MARGIN)
TRAIN_BOXES = $(if $(filter none,$(BOXES)),,-b data/bounding_boxes.csv)
DETECT_DEPS = $(if $(filter detect,$(BOXES)),val.boxes.csv test.boxes.csv,)
detect.weights: split/train.csv .stamp/detect
	$(DETECT) -q --train -b data/bounding_boxes.csv -d data/train -i split/train.csv \
	    --epochs $(DETECT_EPOCHS) -s $(SEED) -o detect
val.boxes.csv: detect.weights split/val.csv
	$(DETECT) -q -m detect -d data/train -i split/val.csv --eval data/bounding_boxes.csv -o $@
test.boxes.csv: detect.weights test.list
	$(DETECT) -q -m detect -d $(TESTDATA)/test -i test.list --eval $(TESTDATA)/bounding_boxes.csv -o $@

# 3. crops of the fluke boxes, SIZE x SIZE gray, as pixel streams
train.pix: split/train.csv .stamp/crop
	$(CROP) --quiet -S $(SIZE) $(TRAIN_BOXES) -d data/train -i split/train.csv > $@
val.pix: split/val.csv $(DETECT_DEPS) .stamp/crop
	$(CROP) --quiet -S $(SIZE) $(VAL_BOXES_$(BOXES)) -d data/train -i split/val.csv > $@
TESTSET = $(if $(SHIFT),shifted/.hwi-synth,$(DATA))
test.list: $(TESTSET)
	ls $(TESTDATA)/test | grep '\.jpg$$' > $@
test.pix: test.list $(DETECT_DEPS) .stamp/crop
	$(CROP) --quiet -S $(SIZE) $(TEST_BOXES_$(BOXES)) -d $(TESTDATA)/test -i test.list > $@

# 4. the network, a classifier over the known whales (new_whale left out):
#    the shipped CFG with its input set to SIZE x SIZE (the network is
#    convolutional up to its GeM pooling, so any size whose last map its
#    strips divide works)
net.cfg: .stamp/net
	sed -e 's/^width=.*/width=$(SIZE)/' -e 's/^height=.*/height=$(SIZE)/' \
	    '$(HWI_DATADIR)/$(CFG).cfg' > $@
$(MODEL).weights: train.pix val.pix net.cfg .stamp/train
	$(TRAIN) -c ./net.cfg -e $(EPOCHS) --lr $(LR) --batch $(BATCH) --threads $(THREADS) -s $(SEED) $(TRAIN_FLAGS) \
	    -l split/train.csv --val val.pix --val-labels split/val.csv --log train.log \
	    -o $(MODEL) train.pix
train.log: $(MODEL).weights ;

# 4b. `make -f demo.mk curves`: the loss and validation MAP@5 of the
#     training log against the epoch, as curves.png (gnuplot)
GNUPLOT = gnuplot
curves: curves.png
curves.png: train.log $(HWI_DATADIR)/curves.gp
	$(GNUPLOT) -e "log='train.log'; out='$@.tmp'" '$(HWI_DATADIR)/curves.gp' && mv $@.tmp $@

# 5. embeddings (L2-normalised features) and logits of every image
%.feat %.logits: %.pix $(MODEL).weights .stamp/embed
	$(EMBED) -m $(MODEL) --threads $(THREADS) $(EMBED_ADAPT) $(EMBED_FLAGS) --logits $*.logits -o $*.feat $*.pix

# 5b. MODEL2: the second network, its embeddings and logits (X.MODEL2.feat)
ifneq ($(MODEL2),)
net2.cfg: .stamp/net2
	sed -e 's/^width=.*/width=$(SIZE)/' -e 's/^height=.*/height=$(SIZE)/' \
	    '$(HWI_DATADIR)/$(CFG2).cfg' > $@
$(MODEL2).weights: train.pix val.pix net2.cfg .stamp/train2
	$(TRAIN) -c ./net2.cfg -e $(EPOCHS) --lr $(LR) --batch $(BATCH) --threads $(THREADS) -s $(SEED2) $(TRAIN_FLAGS) \
	    -l split/train.csv --val val.pix --val-labels split/val.csv --log $(MODEL2).train.log \
	    -o $(MODEL2) train.pix
%.$(MODEL2).feat %.$(MODEL2).logits: %.pix $(MODEL2).weights .stamp/embed
	$(EMBED) -m $(MODEL2) --threads $(THREADS) $(EMBED_ADAPT) $(EMBED_FLAGS) --logits $*.$(MODEL2).logits \
	    -o $*.$(MODEL2).feat $*.pix
endif

# 6. the gallery: the training images (for validation), then train + val
#    (for the test); with MODEL2, its embeddings too
demo.db: train.feat val.feat $(if $(MODEL2),train.$(MODEL2).feat val.$(MODEL2).feat)
	rm -f $@
	$(STORE) create $@
	$(STORE) add -m $(MODEL) --split train -l split/train.csv $@ train.feat
	$(STORE) add -m $(MODEL) --split val -l split/val.csv $@ val.feat
	$(if $(MODEL2),$(STORE) add -m $(MODEL2) --split train -l split/train.csv $@ train.$(MODEL2).feat)
	$(if $(MODEL2),$(STORE) add -m $(MODEL2) --split val -l split/val.csv $@ val.$(MODEL2).feat)

# 7. 1-NN similarity per whale
val.knn.tsv: val.feat demo.db .stamp/knn
	$(KNN) -D demo.db -m $(MODEL) --split train $(KNN_CENTER) $(KNN_FLAGS) -o $@ val.feat
test.knn.tsv: test.feat demo.db .stamp/knn
	$(KNN) -D demo.db -m $(MODEL) --split train,val $(KNN_CENTER) $(KNN_FLAGS) -o $@ test.feat

# 8. classifier probabilities softmax(c * logits), c fitted on validation
#    (X.feat beside X.logits: make -n marks only the first target of the
#    embed rule as remade)
#    Each query's 100 best classes, and every class its 1-NN list names
#    (--keep), so that the fusion below scores every label it needs exactly
#    without a line per class per query; with MODEL2, whose 1-NN lists name
#    other classes too, every class (--top 0).
KEEP = $(if $(MODEL2),--top 0,--keep $(1).knn.tsv)
val.softmax.tsv: val.logits val.feat split/val.csv val.knn.tsv
	$(FUSE) --softmax --fit split/val.csv -r softmax.fit $(call KEEP,val) -o $@ val.logits
test.softmax.tsv: test.logits test.feat val.softmax.tsv test.knn.tsv
	$(FUSE) --softmax $(call fitted,softmax-fitted,softmax.fit) $(call KEEP,test) -o $@ \
	    test.logits

# 8b. MODEL2's knn and softmax scores, the same way
ifneq ($(MODEL2),)
val.$(MODEL2).knn.tsv: val.$(MODEL2).feat demo.db .stamp/knn
	$(KNN) -D demo.db -m $(MODEL2) --split train $(KNN_CENTER) $(KNN_FLAGS) -o $@ val.$(MODEL2).feat
test.$(MODEL2).knn.tsv: test.$(MODEL2).feat demo.db .stamp/knn
	$(KNN) -D demo.db -m $(MODEL2) --split train,val $(KNN_CENTER) $(KNN_FLAGS) -o $@ test.$(MODEL2).feat
val.$(MODEL2).softmax.tsv: val.$(MODEL2).logits val.$(MODEL2).feat split/val.csv
	$(FUSE) --softmax --fit split/val.csv -r $(MODEL2).softmax.fit --top 0 -o $@ \
	    val.$(MODEL2).logits
test.$(MODEL2).softmax.tsv: test.$(MODEL2).logits test.$(MODEL2).feat val.$(MODEL2).softmax.tsv
	$(FUSE) --softmax $(call fitted,softmax-fitted,$(MODEL2).softmax.fit) --top 0 -o $@ \
	    test.$(MODEL2).logits
endif

# 9. knn + softmax (of both models with MODEL2), weights fitted on
#    validation: a grid search for one model, coordinate ascent for two
SCORES = $(strip $(1).knn.tsv $(1).softmax.tsv \
	$(if $(MODEL2),$(1).$(MODEL2).knn.tsv $(1).$(MODEL2).softmax.tsv))
val.fused.tsv: $(call SCORES,val) .stamp/fuse
	$(FUSE) -u --fit split/val.csv $(if $(MODEL2),--search=ascent) -r fusion.fit -o $@ \
	    $(call SCORES,val)
test.fused.tsv: $(call SCORES,test) val.fused.tsv
	$(FUSE) -u $(call fitted,fused,fusion.fit) -o $@ $(call SCORES,test)

# 10. the new_whale threshold, fitted on validation; the submission
val.submission.csv: val.fused.tsv
	$(THRESH) --fit split/val.csv -r thresh.fit -o $@ val.fused.tsv
submission.csv: test.fused.tsv val.submission.csv test.list
	$(THRESH) $(call fitted,thresh,thresh.fit) -i test.list -o $@ test.fused.tsv

# 11. the figures: validation MAP@5 after each stage, then the test score
#     (MODEL2's stages: report2)
report2 = awk -F '\t' '$$1 == "alone:val.$(MODEL2).knn.tsv" \
	    { printf "  %-18s %s / %s\n", "$(MODEL2) 1-NN", $$3, $$5 }' fusion.fit; \
	awk -F '\t' '$$1 == "softmax-fitted" \
	    { printf "  %-18s %s / %s   (%s)\n", "$(MODEL2) classifier", $$3, $$5, $$6 }' \
	    $(MODEL2).softmax.fit
report: submission.csv
	@echo
	@echo "validation MAP@5 (as ranked / with new_whale at its fitted threshold)"
	@awk -F '\t' '$$1 == "alone:val.knn.tsv" { printf "  1-NN per whale     %s / %s\n", $$3, $$5 }' fusion.fit
	@awk -F '\t' '$$1 == "softmax-fitted" { printf "  classifier         %s / %s   (%s)\n", $$3, $$5, $$6 }' softmax.fit
	@$(if $(MODEL2),$(report2))
	@awk -F '\t' '$$1 == "fused" { printf "  knn + classifier   %s / %s   (%s)\n", $$3, $$5, $$6 }' fusion.fit
	@awk -F '\t' '$$1 == "thresh" { printf "  submission         %s   (%s)\n", $$5, $$6 }' thresh.fit
	@echo "validation, hwi-eval split/val.csv val.submission.csv:"
	@$(EVAL) split/val.csv val.submission.csv | sed 's/^/  /'
	@if [ -f $(TESTDATA)/solution.csv ]; then \
	    echo "test, hwi-eval $(TESTDATA)/solution.csv submission.csv:"; \
	    $(EVAL) $(TESTDATA)/solution.csv submission.csv | sed 's/^/  /'; \
	else echo "test: no $(TESTDATA)/solution.csv, no score; the submission is submission.csv"; fi

clean:
	rm -rf $(if $(USER_DATA),,data) data.tmp shifted shifted.tmp .stamp split test.list train.log curves.png *.pix net.cfg $(MODEL).cfg $(MODEL).weights $(MODEL).labels \
	    *.feat *.logits demo.db *.tsv *.fit val.submission.csv submission.csv \
	    detect.cfg detect.weights val.boxes.csv test.boxes.csv \
	    net2.cfg $(if $(MODEL2),$(MODEL2).cfg $(MODEL2).weights $(MODEL2).labels $(MODEL2).train.log)

# Rewrite the settings stamps that changed (see SETTINGS_ above).
$(if $(filter clean,$(MAKECMDGOALS)),,$(shell mkdir -p .stamp)$(foreach s,$(STAMPED),$(call restamp,$(s))))

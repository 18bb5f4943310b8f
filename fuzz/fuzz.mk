# fuzz/fuzz.mk: build and run hwi's libFuzzer targets (GNU make; called by
# `make fuzz` from the build tree, which passes the source lists and flags).
#
#   make fuzz                               every target, FUZZ_SECONDS each
#   make fuzz FUZZ_TARGETS=csv FUZZ_SECONDS=600
#
# Each target's new inputs go to fuzz/work/TARGET (seeded from
# $(top_srcdir)/fuzz/corpus/TARGET), a crashing input to
# fuzz/work/TARGET-crash-*; the run stops at the first finding.

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= csv tsv stream cfg weights db
FUZZ_FLAGS ?= -max_len=65536 -timeout=20 -rss_limit_mb=3072 -print_final_stats=1
SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined
CFLAGS_FUZZ = -g -O1 -fno-omit-frame-pointer $(SAN) \
	-I$(top_builddir) -I$(top_srcdir)/lib -I$(top_builddir)/lib -I$(top_srcdir)/fuzz \
	-DPKGDATADIR='"/nonexistent"' $(DARKNET_CFLAGS) $(BLAS_CFLAGS) $(SQLITE_CFLAGS)

obj = $(top_builddir)/fuzz/obj
bin = $(top_builddir)/fuzz/bin
work = $(top_builddir)/fuzz/work

LIB_OBJS = $(patsubst lib/%.c,$(obj)/%.o,$(LIB_SOURCES))
NN_OBJS = $(patsubst lib/%.c,$(obj)/%.o,$(NN_SOURCES))
LIBS_FUZZ = $(DARKNET_LIBS) $(BLAS_LIBS) $(SQLITE_LIBS) -lm -lpthread

all: check-clang $(addprefix run-,$(FUZZ_TARGETS))

check-clang:
	@mkdir -p $(obj)
	@echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' \
	  > $(obj)/probe.c
	@$(FUZZ_CC) -fsanitize=fuzzer $(obj)/probe.c -o $(obj)/probe 2>/dev/null || { \
	  echo "make fuzz: '$(FUZZ_CC) -fsanitize=fuzzer' does not link: install clang" \
	       "and its runtime (Debian: clang libclang-rt-dev), or set FUZZ_CC" >&2; \
	  exit 1; }

$(obj)/%.o: $(top_srcdir)/lib/%.c
	@mkdir -p $(obj)
	$(FUZZ_CC) $(CFLAGS_FUZZ) -fsanitize=fuzzer-no-link -c $< -o $@

$(obj)/fuzz-%.o: $(top_srcdir)/fuzz/%.c $(top_srcdir)/fuzz/fuzz.h
	@mkdir -p $(obj)
	$(FUZZ_CC) $(CFLAGS_FUZZ) -fsanitize=fuzzer-no-link -c $< -o $@

# The readers' targets need libhwi only; the network's need libhwi_nn too.
$(bin)/fuzz_csv $(bin)/fuzz_tsv $(bin)/fuzz_stream $(bin)/fuzz_db: \
  $(bin)/fuzz_%: $(obj)/fuzz-fuzz_%.o $(obj)/fuzz-util.o $(LIB_OBJS)
	@mkdir -p $(bin)
	$(FUZZ_CC) $(SAN) -fsanitize=fuzzer $^ $(LIBS_FUZZ) -o $@

$(bin)/fuzz_cfg $(bin)/fuzz_weights: \
  $(bin)/fuzz_%: $(obj)/fuzz-fuzz_%.o $(obj)/fuzz-util.o $(NN_OBJS) $(LIB_OBJS)
	@mkdir -p $(bin)
	$(FUZZ_CC) $(SAN) -fsanitize=fuzzer $^ $(LIBS_FUZZ) -o $@

build: $(addprefix $(bin)/fuzz_,$(FUZZ_TARGETS))

run-%: $(bin)/fuzz_%
	@mkdir -p $(work)/$*
	ASAN_OPTIONS=detect_leaks=1 \
	LSAN_OPTIONS='suppressions=$(top_srcdir)/tests/lsan.supp print_suppressions=0' \
	$(bin)/fuzz_$* $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) \
	  -artifact_prefix=$(work)/$*- $(work)/$* $(top_srcdir)/fuzz/corpus/$*

.PHONY: all check-clang build

## mk/sheet.mk: the field workflow's review half: hwi-sheet (contact
## sheets and the offline review page, lib/sheet.c) and hwi-identify (new
## photos against a store, a script over the filters).

lib_libhwi_image_la_SOURCES += lib/sheet.c lib/sheet.h

bin_PROGRAMS += bin/hwi-sheet
bin_hwi_sheet_SOURCES = bin/hwi-sheet.c
bin_hwi_sheet_LDADD = lib/libhwi_image.la lib/libhwi.la

dist_man_MANS += man/hwi-sheet.1

TESTS += tests/hwi-sheet.sh tests/hwi-sheet-browser.sh
EXTRA_DIST += tests/hwi-sheet.sh tests/hwi-sheet-browser.sh

# hwi-identify is a shell script; configure's version goes in at build time.
bin_SCRIPTS = bin/hwi-identify
CLEANFILES += bin/hwi-identify
EXTRA_DIST += bin/hwi-identify.in
bin/hwi-identify: $(top_srcdir)/bin/hwi-identify.in Makefile
	$(AM_V_GEN)$(MKDIR_P) bin && \
	$(SED) -e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' $(top_srcdir)/bin/hwi-identify.in > $@-t && \
	chmod +x $@-t && mv $@-t $@
dist_man_MANS += man/hwi-identify.1
TESTS += tests/hwi-identify.sh
EXTRA_DIST += tests/hwi-identify.sh

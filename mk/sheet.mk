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

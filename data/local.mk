## data/local.mk: files installed under $(pkgdatadir).
dist_pkgdata_DATA += data/schema.sql
dist_pkgdata_DATA += data/scale.mk

## data/local.mk: files installed under $(pkgdatadir).
dist_pkgdata_DATA += data/schema.sql
# the ablation's variants of pcb-small (data/mkcfg.py, data/ablation.mk)
dist_pkgdata_DATA += data/pcb-small-arcface.cfg data/pcb-small-center.cfg \
	data/pcb-small-avg.cfg data/pcb-small-1strip.cfg

## mk/synth.mk: (empty until its module lands)

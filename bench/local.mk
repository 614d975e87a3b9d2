# Benchmarks: built on demand, run with `make bench` (never part of make check).
EXTRA_PROGRAMS = bench/bare_sign
bench_bare_sign_SOURCES = bench/bare_sign.c
bench_bare_sign_CPPFLAGS = $(AM_CPPFLAGS) $(OPENSSL_CFLAGS) $(P11KIT_CFLAGS)
bench_bare_sign_CFLAGS = $(AM_CFLAGS) -Wno-missing-prototypes -Wno-declaration-after-statement
bench_bare_sign_LDADD = $(OPENSSL_LIBS)
CLEANFILES += bench/bare_sign
EXTRA_DIST += bench/run.sh bench/README.md

bench: bench/bare_sign tools/nkhsm-tool
	top_builddir='$(abs_top_builddir)' SOFTHSM_MODULE='$(softhsm_module)' \
	    sh '$(abs_top_srcdir)/bench/run.sh'
.PHONY: bench

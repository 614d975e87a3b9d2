/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * csr.h - nkhsm-tool's csr and import commands (tools/csr.c): a token key
 * asks a CA for a certificate, and the certificate goes back beside it.
 */
#ifndef NKHSM_TOOL_CSR_H
#define NKHSM_TOOL_CSR_H

#include "cli.h"

/* csr --subject DN [--days N] URI -o FILE */
int tool_csr(const struct cli_common *c, const char *uri, const char *subject,
    const char *days, const char *output);
/* import --cert FILE URI */
int tool_import(const struct cli_common *c, const char *uri,
    const char *certfile);

#endif /* NKHSM_TOOL_CSR_H */

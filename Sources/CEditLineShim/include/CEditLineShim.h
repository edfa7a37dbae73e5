#ifndef PLAYCOUNT_CEDITLINE_SHIM_H
#define PLAYCOUNT_CEDITLINE_SHIM_H
/// Placeholder; the shell issue fills in setters for libedit's globals.
int playcount_editline_shim_version(void);
#endif

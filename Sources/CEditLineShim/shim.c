#include "CEditLineShim.h"
int playcount_editline_shim_version(void) { return 1; }

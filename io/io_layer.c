/* placeholder so the library has a source until the layer lands */
#include "recon/status.h"
int mr_io_layer_present(void);
int mr_io_layer_present(void)
{
    return 1;
}

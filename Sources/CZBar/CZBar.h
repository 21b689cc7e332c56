// What Swift cannot import from zbar: the fourcc macro of its grey format.
#ifndef CZBAR_H
#define CZBAR_H

#include <zbar.h>

static const unsigned long CZBAR_FORMAT_Y800 = zbar_fourcc('Y', '8', '0', '0');

#endif

// libqrencode, for drawing QR codes (badges, test frames).
#ifndef CQRENCODE_H
#define CQRENCODE_H

#include <qrencode.h>

#endif

// zlib, for the web app's bulk enrollment: the ZIP's deflated photos are inflated with bounds on what is
// read and written (ZIPFoundation's own loop, on Linux, reads on past a deflate stream that never ends).
// ZIPFoundation has a module of zlib of its own (CZlib), an implementation detail of it: this one is ours.
#ifndef CZLIBINFLATE_H
#define CZLIBINFLATE_H

#include <zlib.h>

/// `inflateInit2(stream, -MAX_WBITS)`: a raw deflate stream, as in a ZIP entry (a macro Swift cannot call).
static inline int CZlibInflate_initRaw(z_stream *stream) {
    return inflateInit2(stream, -MAX_WBITS);
}

#endif

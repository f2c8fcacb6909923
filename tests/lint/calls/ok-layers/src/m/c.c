/* The bottom: calls nothing of the module, only what it is given. */
#include "m_int.h"

int
ew_c(int x, ew_fn fn)
{
	return fn != 0 ? fn(x) : x;
}

/* The middle: calls c.c through a macro. */
#include "m_int.h"

int
ew_b(int x)
{
	return RUN(x, 0);
}

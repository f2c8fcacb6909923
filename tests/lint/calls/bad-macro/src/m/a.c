/* a.c calls b.c. */
#include "m_int.h"

int
ew_a(int x)
{
	return x > 0 ? ew_b(x - 1) : 0;
}

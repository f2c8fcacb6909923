/* The top: calls b.c, and hands c.c a callback of its own (a pointer
 * passed downwards is no call back). */
#include "m_int.h"

int
ew_a_step(int x)
{
	return x + 1;
}

int
ew_a(int x)
{
	return ew_b(x) + RUN(x, ew_a_step);
}

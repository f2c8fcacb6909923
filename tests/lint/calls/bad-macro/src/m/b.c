/* b.c calls back into a.c, but only through NOTE: still a cycle. */
#include "m_int.h"

int
ew_b(int x)
{
	return NOTE(x);
}

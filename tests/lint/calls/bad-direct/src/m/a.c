/* a.c calls b.c, which calls back: a cycle. */
int ew_a(int);
int ew_b(int);

int
ew_a(int x)
{
	return x > 0 ? ew_b(x - 1) : 0;
}

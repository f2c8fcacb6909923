/* b.c calls back into a.c. */
int ew_a(int);
int ew_b(int);

int
ew_b(int x)
{
	return ew_a(x);
}

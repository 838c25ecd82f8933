/*
 * search.c - finding text for `/`: case-insensitive matching of wide
 * text, and which match to go to next.  What is searched (transcript
 * lines, a document's lines) is the screen's business (screen.h, find).
 */
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "ui.h"

bool
find_in(const wchar_t *hay, size_t hn, const wchar_t *needle, size_t nn)
{
	if (nn == 0 || nn > hn)
		return false;
	for (size_t i = 0; i + nn <= hn; i++) {
		size_t j = 0;
		while (j < nn && towlower((wint_t)hay[i + j]) ==
				 towlower((wint_t)needle[j]))
			j++;
		if (j == nn)
			return true;
	}
	return false;
}

bool
find_in_u8(const char *hay, const wchar_t *needle, size_t nn)
{
	size_t hn;
	wchar_t *w = u8_to_wcs(hay, strlen(hay), &hn);
	bool r = find_in(w, hn, needle, nn);
	free(w);
	return r;
}

long
find_pick(size_t n, size_t cur, int dir, bool (*match)(const void *ctx, size_t i),
	  const void *ctx, int *k, int *m)
{
	long first = -1, last = -1, after = -1, before = -1, at = -1;
	int count = 0;
	for (size_t i = 0; i < n; i++) {
		if (!match(ctx, i))
			continue;
		count++;
		if (first < 0)
			first = (long)i;
		last = (long)i;
		if (i == cur)
			at = (long)i;
		if (i > cur && after < 0)
			after = (long)i;
		if (i < cur)
			before = (long)i;
	}
	*m = count;
	*k = 0;
	if (!count)
		return -1;
	long pick;
	if (dir == 0)
		pick = at >= 0 ? at : after >= 0 ? after : first;
	else if (dir > 0)
		pick = after >= 0 ? after : first;
	else
		pick = before >= 0 ? before : last;
	int rank = 0;
	for (size_t i = 0; i <= (size_t)pick; i++)
		if (match(ctx, i))
			rank++;
	*k = rank;
	return pick;
}

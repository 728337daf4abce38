package export

import (
	"fmt"
	"strings"
	"time"
	"unicode"
)

// MaxSlug is the longest prompt slug in a file name.
const MaxSlug = 40

// namer hands out <date>_<prompt-slug>_<seed>.<ext> names, unique within
// one export: a repeat gets -2, -3, … before the extension.
type namer struct{ used map[string]bool }

func newNamer() *namer { return &namer{used: map[string]bool{}} }

func (n *namer) name(created time.Time, prompt string, seed int64, ext string) string {
	base := fmt.Sprintf("%s_%s_%d", created.UTC().Format("2006-01-02"), Slug(prompt), seed)
	name := base + "." + ext
	for i := 2; n.used[strings.ToLower(name)]; i++ {
		name = fmt.Sprintf("%s-%d.%s", base, i, ext)
	}
	// Lower-cased: two names differing in case collide on macOS and Windows.
	n.used[strings.ToLower(name)] = true
	return name
}

// folds maps common Latin letters with marks to ASCII, so "Café crème"
// reads "cafe-creme" instead of losing letters.
var folds = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a", 'æ': "ae", 'ç': "c", 'è': "e", 'é': "e",
	'ê': "e", 'ë': "e", 'ì': "i", 'í': "i", 'î': "i", 'ï': "i", 'ñ': "n", 'ò': "o", 'ó': "o", 'ô': "o",
	'õ': "o", 'ö': "o", 'ø': "o", 'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ý': "y", 'ÿ': "y", 'ß': "ss",
	'œ': "oe", 'ł': "l", 'ś': "s", 'ź': "z", 'ż': "z", 'ć': "c", 'ń': "n", 'ę': "e", 'ą': "a", 'š': "s",
	'č': "c", 'ž': "z", 'ř': "r", 'ě': "e", 'ů': "u", 'ğ': "g", 'ı': "i", 'ş': "s",
}

// Slug is prompt as a file-name part: lower-case ASCII letters and digits,
// words joined by '-', at most MaxSlug characters cut at a word boundary
// when one is near, "image" when nothing is left.
func Slug(prompt string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(prompt) {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
			dash = false
		case folds[r] != "":
			b.WriteString(folds[r])
			dash = false
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > MaxSlug {
		cut := s[:MaxSlug]
		if i := strings.LastIndexByte(cut, '-'); i >= MaxSlug/2 {
			cut = cut[:i]
		}
		s = strings.Trim(cut, "-")
	}
	if s == "" {
		return "image"
	}
	return s
}

package ui

import (
	"container/list"
	"context"
	"image"
	"sync"
)

// previewCacheBytes bounds everything the preview cache holds: scaled
// pictures and finished renderings together.
const previewCacheBytes = 32 << 20

// scaledKey names one picture (by sha256) scaled to w×h pixels. The
// curation grid can ask for its thumbnails through the same cache.
type scaledKey struct {
	sha  string
	w, h int
}

// previewCache is a least-recently-used cache bounded by bytes, shared by
// value copies of the model and by the Cmds that render previews, so it
// guards itself. It also serialises decodes: each may take up to
// decodeLimit bytes, and only one runs at a time.
type previewCache struct {
	mu          sync.Mutex
	budget      int64
	used        int64
	order       *list.List // front = most recently used
	items       map[any]*list.Element
	decodeLimit int64
	decodes     chan struct{}
}

type cacheEntry struct {
	key   any
	value any
	size  int64
}

func newPreviewCache(budget int64) *previewCache {
	return &previewCache{
		budget:      budget,
		order:       list.New(),
		items:       map[any]*list.Element{},
		decodeLimit: maxPreviewDecodeBytes,
		decodes:     make(chan struct{}, 1),
	}
}

func (c *previewCache) lookup(k any) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[k]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cacheEntry).value, true
}

// store keeps v under k and evicts the least recently used entries until
// the budget holds. An entry bigger than the whole budget is not kept.
func (c *previewCache) store(k, v any, size int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		c.used -= e.Value.(*cacheEntry).size
		c.order.Remove(e)
		delete(c.items, k)
	}
	if size > c.budget {
		return
	}
	c.items[k] = c.order.PushFront(&cacheEntry{key: k, value: v, size: size})
	c.used += size
	for c.used > c.budget {
		last := c.order.Back()
		ent := last.Value.(*cacheEntry)
		c.order.Remove(last)
		delete(c.items, ent.key)
		c.used -= ent.size
	}
}

// usedBytes is what the cache holds now.
func (c *previewCache) usedBytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}

// get and put keep the finished renderings the detail view shows.
func (c *previewCache) get(k previewKey) (previewRenderedMsg, bool) {
	v, ok := c.lookup(k)
	if !ok {
		return previewRenderedMsg{}, false
	}
	return v.(previewRenderedMsg), true
}

func (c *previewCache) put(v previewRenderedMsg) {
	c.store(v.key, v, int64(len(v.cells)+len(v.inline))+256)
}

// scaled returns the picture sha scaled to w×h, decoding it through load
// only when that size is not cached.
func (c *previewCache) scaled(ctx context.Context, sha string, w, h int, load func() (image.Image, error)) (*image.RGBA, error) {
	k := scaledKey{sha: sha, w: w, h: h}
	if v, ok := c.lookup(k); ok {
		return v.(*image.RGBA), nil
	}
	src, err := load()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	img := scaleTo(src, w, h)
	c.store(k, img, int64(len(img.Pix)))
	return img, nil
}

// acquireDecode waits for the decode slot, or for ctx to end.
func (c *previewCache) acquireDecode(ctx context.Context) (release func(), err error) {
	select {
	case c.decodes <- struct{}{}:
		return func() { <-c.decodes }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

package app

import (
	"context"
	"strconv"
)

// VariationCount is how many requests "more like this" makes.
const VariationCount = 4

// SetFavorite stars (on) or unstars an image, as the acting person now.
// Staff decide only on their own requests' images, like cancel and delete.
func (s *Service) SetFavorite(ctx context.Context, imageID int64, on bool) (Image, error) {
	return s.decide(ctx, ImageDecision{ImageID: imageID, Favorite: &on}, "favourite")
}

// SetApproval records a verdict on an image (ApprovalUndecided resets it),
// as the acting person now. The Odoo sync is queued in the same
// transaction, so a verdict given while Odoo is down is sent later.
func (s *Service) SetApproval(ctx context.Context, imageID int64, a Approval) (Image, error) {
	if !a.Valid() {
		_, err := ParseApproval(string(a))
		return Image{}, err
	}
	return s.decide(ctx, ImageDecision{ImageID: imageID, Approval: &a}, "approve")
}

func (s *Service) decide(ctx context.Context, d ImageDecision, action string) (Image, error) {
	im, err := s.Store.GetImage(ctx, d.ImageID)
	if err != nil {
		return Image{}, err
	}
	if err := s.mayActOn(ctx, im.RequestID, action+" an image of"); err != nil {
		return Image{}, err
	}
	d.By = s.requester(ctx)
	d.At = s.clock().Now().UTC()
	out, err := s.Store.DecideImage(ctx, d)
	if err != nil {
		return Image{}, err
	}
	s.publish(im.RequestID)
	return out, nil
}

// Vary makes "more like this" from an image: a batch of VariationCount
// requests with its request's parameters and the seeds s+1…s+4 after the
// image's seed (wrapping at 2^32), each pointing back with VariationOf.
func (s *Service) Vary(ctx context.Context, imageID int64) ([]Request, error) {
	return s.variations(ctx, imageID, false)
}

// Reroll is Vary with fresh random seeds: the same idea, new compositions.
func (s *Service) Reroll(ctx context.Context, imageID int64) ([]Request, error) {
	return s.variations(ctx, imageID, true)
}

func (s *Service) variations(ctx context.Context, imageID int64, random bool) ([]Request, error) {
	im, err := s.Store.GetImage(ctx, imageID)
	if err != nil {
		return nil, err
	}
	src, err := s.Store.GetRequest(ctx, im.RequestID)
	if err != nil {
		return nil, err
	}
	seed := src.Params.Seed
	if im.Seed != nil {
		seed = *im.Seed
	}
	params := make([]GenerationParams, VariationCount)
	for i := range params {
		p := src.Params
		p.NumImages = 1
		p.DryRun = false
		if random {
			p.Seed = int64(s.seeds()())
		} else {
			p.Seed = (seed + int64(i) + 1) % (MaxSeed + 1)
		}
		params[i] = p
	}
	reqs, err := s.submitParams(ctx, params, imageID)
	if err != nil {
		return nil, err
	}
	kind := "varied"
	if random {
		kind = "re-rolled"
	}
	if err := s.Store.AppendActivity(ctx, *s.activity(src.ID, ActivityCreated, LevelInfo,
		"image "+strconv.FormatInt(imageID, 10)+" "+kind+" as batch "+reqs[0].BatchID+" by "+s.userName(ctx))); err != nil {
		s.log().Warn("variation activity not recorded", "request_id", src.ID, "error", err)
	}
	return reqs, nil
}

package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Role is what a team member may do on a shared host (issue 16).
type Role string

const (
	// RoleStaff composes, acts on their own requests and sees everyone's.
	RoleStaff Role = "staff"
	// RoleAdmin also opens the admin screen (secrets, rotation, Odoo) and
	// acts on anyone's request.
	RoleAdmin Role = "admin"
)

// ParseRole accepts the two role names.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.ToLower(strings.TrimSpace(s))); r {
	case RoleStaff, RoleAdmin:
		return r, nil
	}
	return "", Errorf(EINVALID, "role %q: use staff or admin", s)
}

// TeamUser is one person who may connect to the shared host. Keys are
// public keys in authorized_keys form ("ssh-ed25519 AAAA… mia@laptop");
// the store validates them, this package only carries them.
type TeamUser struct {
	Name string   `json:"name" toml:"name"`
	Role Role     `json:"role" toml:"role"`
	Keys []string `json:"keys" toml:"keys"`
}

// Team is the content of team.toml.
type Team struct {
	Users []TeamUser `json:"users"`
}

// User returns the member called name.
func (t Team) User(name string) (TeamUser, bool) {
	i := slices.IndexFunc(t.Users, func(u TeamUser) bool { return u.Name == name })
	if i < 0 {
		return TeamUser{}, false
	}
	return t.Users[i], true
}

// Admins counts the members with the admin role: a host without one has
// nobody who can rotate the callback token.
func (t Team) Admins() int {
	n := 0
	for _, u := range t.Users {
		if u.Role == RoleAdmin {
			n++
		}
	}
	return n
}

// CheckUserName keeps names to what reads well in requested_by, in Odoo
// and in a by:NAME search (no spaces, no control characters).
func CheckUserName(name string) error {
	if name == "" || len(name) > 64 {
		return Errorf(EINVALID, "user name %q: use 1 to 64 letters, digits, '.', '-' or '_'", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return Errorf(EINVALID, "user name %q: use only letters, digits, '.', '-' or '_'", name)
		}
	}
	return nil
}

// Actor is who is acting in a request's context: a team member on the
// shared host. A context without one is the single local user of a laptop
// install, who may do everything.
type Actor struct {
	Name string
	Role Role
}

type actorKey struct{}

// WithActor marks ctx as acting for a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of ctx, if any.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok && a.Name != ""
}

// MayAdmin reports whether ctx may use the admin screen: the local user
// and team admins.
func MayAdmin(ctx context.Context) bool {
	a, ok := ActorFrom(ctx)
	return !ok || a.Role == RoleAdmin
}

// MayActOn checks that ctx may cancel, retry or delete req: admins and
// the local user act on anything, staff only on their own requests.
func MayActOn(ctx context.Context, req Request, action string) error {
	a, ok := ActorFrom(ctx)
	if !ok || a.Role == RoleAdmin || req.RequestedBy == a.Name {
		return nil
	}
	return &Error{Code: EUNAUTHORIZED, Reason: "forbidden",
		Message: fmt.Sprintf("cannot %s request %s: it was requested by %s, and staff act only on their own requests (ask an admin)", action, req.ID, orSomeone(req.RequestedBy))}
}

func orSomeone(name string) string {
	if name == "" {
		return "someone else"
	}
	return name
}

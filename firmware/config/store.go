package config

import (
	"fmt"
	"slices"
	"sync"
)

// Store holds the configuration in force and the file it lives in. Readers
// get copies; Update validates a changed copy, saves it atomically, and only
// then makes it current, so a failed save changes nothing.
type Store struct {
	path string
	mu   sync.Mutex
	cur  Config

	// notify serializes change callbacks so that they see changes in the
	// order they were made; it is taken before mu is released.
	notify    sync.Mutex
	listeners []func(old, new Config)
}

// NewStore returns a store for c, saved at path.
func NewStore(path string, c Config) *Store {
	return &Store{path: path, cur: c.clone()}
}

// Path is the file the store saves to.
func (s *Store) Path() string { return s.path }

// Get returns a copy of the configuration in force.
func (s *Store) Get() Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur.clone()
}

// OnChange registers fn to be called after every successful Update with
// the configuration before and after it (copies fn may keep), so that the
// gateway can apply a change without a restart. Callbacks run on the
// goroutine that called Update, after the store's lock is released, one
// change at a time and in the order the changes were made; fn may call Get
// but must not call Update, which would wait for fn to return.
func (s *Store) OnChange(fn func(old, new Config)) {
	s.notify.Lock()
	defer s.notify.Unlock()
	s.listeners = append(s.listeners, fn)
}

// Update applies fn to a copy of the configuration, validates and saves the
// result, and makes it current. If fn, validation or the save fails, the
// configuration in force and the file are unchanged. After a successful
// update the OnChange callbacks run before Update returns.
func (s *Store) Update(fn func(*Config) error) error {
	s.mu.Lock()
	old := s.cur.clone()
	next := s.cur.clone()
	if err := fn(&next); err != nil {
		s.mu.Unlock()
		return err
	}
	if errs := next.validate(); len(errs) > 0 {
		s.mu.Unlock()
		return errs
	}
	if err := Save(s.path, next); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("config: save %s: %w", s.path, err)
	}
	s.cur = next.clone()
	s.notify.Lock() // before mu is released: the next change waits its turn
	s.mu.Unlock()
	defer s.notify.Unlock()
	for _, l := range s.listeners {
		l(old.clone(), next.clone())
	}
	return nil
}

func (c Config) clone() Config {
	c.Lines = append([]Line(nil), c.Lines...)
	c.SIP.Codecs = append([]string(nil), c.SIP.Codecs...)
	c.Update.PublicKeys = slices.Clone(c.Update.PublicKeys)
	return c
}

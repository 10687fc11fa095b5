package config

import (
	"fmt"
	"sync"
)

// Store holds the configuration in force and the file it lives in. Readers
// get copies; Update validates a changed copy, saves it atomically, and only
// then makes it current, so a failed save changes nothing.
type Store struct {
	path string
	mu   sync.Mutex
	cur  Config
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

// Update applies fn to a copy of the configuration, validates and saves the
// result, and makes it current. If fn, validation or the save fails, the
// configuration in force and the file are unchanged.
func (s *Store) Update(fn func(*Config) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.cur.clone()
	if err := fn(&next); err != nil {
		return err
	}
	if errs := next.validate(); len(errs) > 0 {
		return errs
	}
	if err := Save(s.path, next); err != nil {
		return fmt.Errorf("config: save %s: %w", s.path, err)
	}
	s.cur = next
	return nil
}

func (c Config) clone() Config {
	c.Lines = append([]Line(nil), c.Lines...)
	return c
}

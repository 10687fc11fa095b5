package call

import "testing"

// TestEventsWaitForTheResponse checks the ordering rule of holdEvents: an
// event caused by a request of the far end's reaches the controller only
// after the handler has answered that request, and events held when the
// call ends still arrive, before EventEnded.
func TestEventsWaitForTheResponse(t *testing.T) {
	c := &Call{events: make(chan Event, 4)}
	c.holdEvents()
	c.mu.Lock()
	c.emitLocked(Event{Kind: EventHeld})
	c.mu.Unlock()
	select {
	case ev := <-c.events:
		t.Fatalf("%v delivered while the request is still being answered", ev.Kind)
	default:
	}
	c.releaseEvents()
	select {
	case ev := <-c.events:
		if ev.Kind != EventHeld {
			t.Fatalf("got %v, want held", ev.Kind)
		}
	default:
		t.Fatal("the held event was never delivered")
	}
	// Outside a handler events go out at once.
	c.emit(Event{Kind: EventResumed})
	if ev := <-c.events; ev.Kind != EventResumed {
		t.Fatalf("got %v, want resumed", ev.Kind)
	}
}

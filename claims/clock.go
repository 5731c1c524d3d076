package claims

import "time"

// Now is the time by the store's clock (see WithClock): what it stamps on a
// submission or a review, and what decides today's date. Data written "as
// of" that time, such as the demo's, reads it here; a store on another
// clock over the same pool is NewStore(s.DB(), WithClock(…)).
func (s *Store) Now() time.Time { return s.now() }

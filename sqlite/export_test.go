package sqlite

// BatchStats reports how many transactions the writer has committed and
// how many writes they held.
func (s *Store) BatchStats() (batches, writes int64) { return s.batches.Load(), s.batched.Load() }

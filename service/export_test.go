package service

// HoldHashSlots takes every password-hashing slot, as that many hashes in
// progress would, until the returned function is called.
func (s *Service) HoldHashSlots() (release func()) {
	for range cap(s.hashes) {
		s.hashes <- struct{}{}
	}
	return func() {
		for range cap(s.hashes) {
			<-s.hashes
		}
	}
}

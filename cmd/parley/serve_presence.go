package main

import (
	"fmt"

	"parley/app"
	"parley/presence"
)

// presenceFlags declares the presence timing flags on f before parsing and
// returns what applies them to cfg after. They matter with several nodes:
// when a node dies without a word (kill -9, a crash, a partition), the
// others forget its users after --presence-node-timeout, and report them
// offline --presence-grace later (docs/deploy.md).
func presenceFlags(f *flags) func(cfg *app.Config) error {
	grace := f.Duration("presence-grace", "PARLEY_PRESENCE_GRACE", presence.DefaultOfflineGrace,
		"a user is reported offline this long after their last connection closed, so a reload or a reconnect does not flap (0: at once)")
	heartbeat := f.Duration("presence-heartbeat", "PARLEY_PRESENCE_HEARTBEAT", presence.DefaultHeartbeat,
		"how often a node tells the others who is connected to it")
	nodeTimeout := f.Duration("presence-node-timeout", "PARLEY_PRESENCE_NODE_TIMEOUT", presence.DefaultNodeTimeout,
		"a node silent for this long is taken for dead and its users go offline; at least twice every node's --presence-heartbeat")
	return func(cfg *app.Config) error {
		if *grace < 0 || *heartbeat <= 0 || *nodeTimeout < 2**heartbeat {
			return fmt.Errorf("presence timing out of range: --presence-grace at least 0, --presence-heartbeat above 0, --presence-node-timeout at least twice --presence-heartbeat")
		}
		cfg.Presence.OfflineGrace = *grace
		if *grace == 0 {
			cfg.Presence.OfflineGrace = -1 // presence.Config: negative is "at once"
		}
		cfg.Presence.Heartbeat = *heartbeat
		cfg.Presence.NodeTimeout = *nodeTimeout
		return nil
	}
}

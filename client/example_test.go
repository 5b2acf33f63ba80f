package client_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"parley"
	"parley/client"
)

func Example() {
	ctx := context.Background()
	c := client.New("http://localhost:8080")
	if _, err := c.Login(ctx, "alice", "correct horse battery"); err != nil {
		log.Fatal(err)
	}
	conv, _, err := c.Direct(ctx, "bob")
	if err != nil {
		log.Fatal(err)
	}

	rt, err := c.Connect(ctx, client.Handler{
		OnMessage: func(m parley.Message, change string) {
			fmt.Printf("%d #%d %s: %s\n", m.ConversationID, m.Seq, change, m.Text)
		},
		OnState: func(s client.State, err error) {
			log.Printf("realtime: %v %v", s, err)
		},
	}, client.WithAutoReceipts(0))
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Close()

	sendCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	m, err := rt.Send(sendCtx, conv.ID, "hello, Bob")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("stored as seq", m.Seq)
}

package standin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/webtier/webtier/verify"
)

// SNS in the twin: what a topic is sent is a line in the state directory's SNSLog, the twin's
// stand-in for the topic's subscribers. The database's standby sends its failover there (RDS's
// event notifications); the twin's CloudWatch stand-in, in the Auto Scaling controller, sends
// its alarms' changes of state (Send).

// SNSLog is the file where the twin's SNS stand-in records what each topic was sent.
const SNSLog = "sns.log"

// Notification is one message an alarm, or an RDS event subscription, sent to a topic.
type Notification struct {
	At    time.Time `json:"at"`
	Topic string    `json:"topic"`
	// Alarm and State are an alarm's name and new state; Subscription and Category an RDS
	// event's.
	Alarm        string `json:"alarm,omitempty"`
	State        string `json:"state,omitempty"`
	Subscription string `json:"subscription,omitempty"`
	Category     string `json:"category,omitempty"`
	Reason       string `json:"reason"`
}

// Send records notifications in the SNSLog of the state directory state, after those sent
// before.
func Send(state string, list []Notification) error {
	f, err := os.OpenFile(filepath.Join(state, SNSLog), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, n := range list {
		line, _ := json.Marshal(n)
		if _, err := f.Write(append(line, '\n')); err != nil {
			return err
		}
	}
	return nil
}

// dbEvent sends an event of a category of the database to the topic of each subscription
// that takes that category (every category when it names none): the twin's stand-in for
// RDS's event notifications.
func dbEvent(state string, subs []verify.EventSubscription, category, message string) error {
	var out []Notification
	for _, s := range subs {
		if s.Topic != "" && (len(s.Categories) == 0 || slices.Contains(s.Categories, category)) {
			out = append(out, Notification{At: time.Now(), Topic: s.Topic, Subscription: s.Name, Category: category,
				Reason: message + " (the twin's stand-in for RDS event notifications)"})
		}
	}
	return Send(state, out)
}

// ReadNotifications reads what the topics of the twin with state directory state were sent,
// in the order they were sent (none when nothing was).
func ReadNotifications(state string) ([]Notification, error) {
	data, err := os.ReadFile(filepath.Join(state, SNSLog))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Notification
	dec := json.NewDecoder(bytes.NewReader(data))
	for dec.More() {
		var n Notification
		if err := dec.Decode(&n); err != nil {
			return out, fmt.Errorf("%s: %w", SNSLog, err)
		}
		out = append(out, n)
	}
	return out, nil
}

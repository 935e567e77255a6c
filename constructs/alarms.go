package constructs

import (
	"encoding/json"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatcheventrule"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatcheventtarget"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatchmetricalarm"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dbeventsubscription"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/kmsalias"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/kmskey"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/snstopic"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/snstopicpolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/snstopicsubscription"

	"github.com/webtier/webtier/rules"
)

// AlarmsProps names what the alarms watch and who they notify.
type AlarmsProps struct {
	// Region and Account make the ARNs of the key's and the topic's policies. default: none (required)
	Region  string
	Account *string
	// Emails are subscribed to the topic by email. default: none (the topic has no subscriber)
	Emails []string
	// LoadBalancer is the ALB and its target group. default: none (required)
	LoadBalancer *LoadBalancer
	// MinHealthy is the group's minimum: fewer healthy targets raise an alarm. default: none (required)
	MinHealthy int
	// DB is the database. default: none (required)
	DB *Database
	// StorageGB is the database's allocated storage: less than a tenth free raises an alarm.
	// default: none (required)
	StorageGB int
	// Network holds the NAT gateways; NATNames names them in the same order ("public-a"). default: none (required)
	Network  *Network
	NATNames []string
	// GroupName is the web servers' Auto Scaling group, whose failed launches notify. default: none (required)
	GroupName string
}

// TopicName is the SNS topic every alarm and event notifies.
const TopicName = rules.AlarmTopic

// threshold is each recommended alarm's threshold, period (s), periods evaluated and how many
// of them must breach, and how missing data counts. The numbers are a starting point an
// operator tunes: CloudWatch's page leaves most thresholds to the workload.
type threshold struct {
	value             float64
	period, of, needs int
	missing           string
}

// thresholds are the stack's thresholds, by rules.Alarm name.
func thresholds(p AlarmsProps) map[string]threshold {
	const gib = 1 << 30
	return map[string]threshold{
		// 5xx: more than 10 a minute, 5 minutes in a row (a short burst during a deploy does not page).
		"alb-elb-5xx":    {10, 60, 5, 5, "notBreaching"},
		"alb-target-5xx": {10, 60, 5, 5, "notBreaching"},
		// A target unhealthy for 2 minutes: 3 failed checks 15 s apart take 45 s.
		"alb-unhealthy-hosts": {0, 60, 2, 2, "notBreaching"},
		// No data is no healthy host reported: as bad as too few.
		"alb-healthy-hosts-low": {float64(p.MinHealthy), 60, 3, 3, "breaching"},
		// The slowest tenth of requests above 2 s for 5 minutes (PHP ends a request after 30 s).
		"alb-target-response-time": {2, 60, 5, 5, "notBreaching"},
		// A tenth of the allocated storage left.
		"db-free-storage": {float64(p.StorageGB) * gib / 10, 300, 1, 1, "breaching"},
		"db-cpu":          {90, 300, 3, 3, "notBreaching"},
		// 128 MiB left: a db.t3.micro has 1 GiB.
		"db-freeable-memory": {128 << 20, 300, 3, 3, "notBreaching"},
		// The fleet at its largest on t3.micro opens at most 4 servers x 12 PHP-FPM workers.
		"db-connections":  {50, 300, 2, 2, "notBreaching"},
		"port-allocation": {0, 60, 1, 1, "notBreaching"},
		// Any drop for 3 of 5 minutes: a single lost packet is not worth a page.
		"packets-dropped": {0, 60, 5, 3, "notBreaching"},
	}
}

// Alarms is the notification path: the topic and what publishes to it.
type Alarms struct {
	Topic snstopic.SnsTopic
}

// NewAlarms builds the alarms' topic (encrypted with a key of the stack, which CloudWatch,
// EventBridge and RDS may use to publish: AWS's own key for SNS grants no service), its
// email subscriptions, one CloudWatch alarm per recommended alarm (rules.Alarms), the
// database's event subscription and an EventBridge rule for the group's failed launches.
func NewAlarms(scope constructs.Construct, id string, p AlarmsProps) *Alarms {
	s := scopeOf(scope, id)
	partition := rules.Partition(p.Region)
	account := *p.Account
	topicARN := "arn:" + partition + ":sns:" + p.Region + ":" + account + ":" + TopicName
	alarmARNs := "arn:" + partition + ":cloudwatch:" + p.Region + ":" + account + ":alarm:" + rules.AlarmPrefix + "*"
	ruleName := "webtier-web-launch-failed"
	ruleARN := "arn:" + partition + ":events:" + p.Region + ":" + account + ":rule/" + ruleName
	use := []string{"kms:Decrypt", "kms:GenerateDataKey*"}
	key := named(kmskey.NewKmsKey(s, str("key"), &kmskey.KmsKeyConfig{
		Description:          str("webtier: encrypts the alarms' SNS topic"),
		EnableKeyRotation:    true,
		DeletionWindowInDays: num(7),
		Policy: policyText(
			map[string]any{"Sid": "AccountAdministersTheKey", "Effect": "Allow",
				"Principal": map[string]any{"AWS": "arn:" + partition + ":iam::" + account + ":root"},
				"Action":    "kms:*", "Resource": "*"},
			map[string]any{"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow",
				"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"}, "Action": use, "Resource": "*",
				"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": account},
					"ArnLike": map[string]any{"aws:SourceArn": alarmARNs}}},
			// EventBridge's requests to KMS carry no aws:SourceAccount or aws:SourceArn (SNS
			// guide, "Enable compatibility between event sources from AWS services and
			// encrypted topics"): a condition on them would drop every notification.
			map[string]any{"Sid": "EventBridgePublishes", "Effect": "Allow",
				"Principal": map[string]any{"Service": "events.amazonaws.com"}, "Action": use, "Resource": "*"},
			map[string]any{"Sid": "RDSEventsPublish", "Effect": "Allow",
				"Principal": map[string]any{"Service": "events.rds.amazonaws.com"}, "Action": use, "Resource": "*"},
		),
		Tags: tags("webtier-alarms", "kms-key"),
	}), "alarms")
	alias := named(kmsalias.NewKmsAlias(s, str("alias"), &kmsalias.KmsAliasConfig{
		Name: str("alias/webtier-alarms"), TargetKeyId: key.KeyId(),
	}), "alarms")
	// The key by its alias: a name known when the stack is planned (the key's ARN is known
	// only after apply, and a scanner of the plan takes an unknown key for none).
	topic := named(snstopic.NewSnsTopic(s, str("topic"), &snstopic.SnsTopicConfig{
		Name:           str(TopicName),
		KmsMasterKeyId: alias.Name(),
		Tags:           tags(TopicName, "alarm-topic"),
	}), "alarms")
	// Who may publish: this account's alarms, the launch-failure rule and RDS's events for this
	// account; the account manages the topic.
	named(snstopicpolicy.NewSnsTopicPolicy(s, str("topic-policy"), &snstopicpolicy.SnsTopicPolicyConfig{
		Arn: topic.Arn(),
		Policy: policyText(
			map[string]any{"Sid": "AccountManagesTheTopic", "Effect": "Allow",
				"Principal": map[string]any{"AWS": "arn:" + partition + ":iam::" + account + ":root"},
				"Action": []string{"sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:Subscribe", "sns:ListSubscriptionsByTopic",
					"sns:Publish", "sns:DeleteTopic", "sns:TagResource", "sns:UntagResource"},
				"Resource": topicARN},
			map[string]any{"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow",
				"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish", "Resource": topicARN,
				"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": account},
					"ArnLike": map[string]any{"aws:SourceArn": alarmARNs}}},
			map[string]any{"Sid": "LaunchFailuresPublish", "Effect": "Allow",
				"Principal": map[string]any{"Service": "events.amazonaws.com"}, "Action": "sns:Publish", "Resource": topicARN,
				"Condition": map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": ruleARN}}},
			map[string]any{"Sid": "DatabaseEventsPublish", "Effect": "Allow",
				"Principal": map[string]any{"Service": "events.rds.amazonaws.com"}, "Action": "sns:Publish", "Resource": topicARN,
				"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": account}}},
		),
	}), "alarms")
	for i, email := range p.Emails {
		named(snstopicsubscription.NewSnsTopicSubscription(s, str("email-"+itoa(i)), &snstopicsubscription.SnsTopicSubscriptionConfig{
			TopicArn: topic.Arn(), Protocol: str("email"), Endpoint: str(email),
		}), "alarms-email-"+itoa(i))
	}

	dims := map[string]*string{
		rules.DimLoadBalancer: p.LoadBalancer.ALB.ArnSuffix(),
		rules.DimTargetGroup:  p.LoadBalancer.TargetGroup.ArnSuffix(),
		rules.DimDBInstance:   p.DB.DB.Identifier(),
	}
	limits := thresholds(p)
	notify := ptrs([]*string{topic.Arn()})
	for _, a := range rules.Alarms {
		t, ok := limits[a.Name]
		if !ok {
			panic("constructs: no threshold for the alarm " + a.Name)
		}
		alarm := func(nat string, natID *string) {
			d := map[string]*string{}
			for _, dim := range a.Dimensions {
				d[dim] = dims[dim]
				if dim == rules.DimNATGateway {
					d[dim] = natID
				}
			}
			cfg := &cloudwatchmetricalarm.CloudwatchMetricAlarmConfig{
				AlarmName:          str(a.AlarmName(nat)),
				AlarmDescription:   str(a.Why),
				Namespace:          str(a.Namespace),
				MetricName:         str(a.Metric),
				Dimensions:         &d,
				ComparisonOperator: str(a.Comparison),
				Threshold:          numf(t.value),
				Period:             num(t.period),
				EvaluationPeriods:  num(t.of),
				DatapointsToAlarm:  num(t.needs),
				TreatMissingData:   str(t.missing),
				AlarmActions:       notify,
				OkActions:          notify,
				Tags:               tags(a.AlarmName(nat), "alarm"),
			}
			if strings.HasPrefix(a.Statistic, "p") {
				cfg.ExtendedStatistic = str(a.Statistic)
			} else {
				cfg.Statistic = str(a.Statistic)
			}
			named(cloudwatchmetricalarm.NewCloudwatchMetricAlarm(s, str(a.AlarmName(nat)), cfg), strings.TrimPrefix(a.AlarmName(nat), rules.AlarmPrefix))
		}
		if !a.PerNAT() {
			alarm("", nil)
			continue
		}
		for i, nat := range p.Network.NATs {
			alarm("nat-"+p.NATNames[i], nat.Id())
		}
	}

	named(dbeventsubscription.NewDbEventSubscription(s, str("db-events"), &dbeventsubscription.DbEventSubscriptionConfig{
		Name:            str("webtier-db-events"),
		SnsTopic:        topic.Arn(),
		SourceType:      str("db-instance"),
		SourceIds:       ptrs([]*string{p.DB.DB.Identifier()}),
		EventCategories: strs(rules.DBEventCategories...),
		Tags:            tags("webtier-db-events", "db-event-subscription"),
	}), "db-events")

	pattern, err := json.Marshal(map[string]any{
		"source":      []string{"aws.autoscaling"},
		"detail-type": []string{rules.LaunchFailedEvent},
		"detail":      map[string]any{"AutoScalingGroupName": []string{p.GroupName}},
	})
	if err != nil {
		panic(err)
	}
	rule := named(cloudwatcheventrule.NewCloudwatchEventRule(s, str("launch-failed"), &cloudwatcheventrule.CloudwatchEventRuleConfig{
		Name:         str(ruleName),
		Description:  str("webtier: the web servers' group could not launch an instance"),
		EventPattern: str(string(pattern)),
		Tags:         tags(ruleName, "event-rule"),
	}), "launch-failed")
	named(cloudwatcheventtarget.NewCloudwatchEventTarget(s, str("launch-failed-topic"), &cloudwatcheventtarget.CloudwatchEventTargetConfig{
		Rule: rule.Name(), Arn: topic.Arn(), TargetId: str("alarms-topic"),
	}), "launch-failed")
	return &Alarms{Topic: topic}
}

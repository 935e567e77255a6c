package rules

// The alarms that page someone: for each service of the stack, the metrics CloudWatch's
// "Recommended alarms" page lists (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Best_Practice_Recommended_Alarms_AWS_Services.html),
// as data. The stack builds one CloudWatch alarm per entry (per NAT gateway for the NAT ones)
// and verify checks that each exists, watches the stack's own resource and notifies the topic.

// The dimensions an alarm names, each with the resource of the stack it must name.
const (
	// DimLoadBalancer is the ALB's ARN suffix ("app/webtier-alb/...").
	DimLoadBalancer = "LoadBalancer"
	// DimTargetGroup is the web servers' target group's ARN suffix ("targetgroup/webtier-web/...").
	DimTargetGroup = "TargetGroup"
	// DimDBInstance is the database instance's identifier.
	DimDBInstance = "DBInstanceIdentifier"
	// DimNATGateway is a NAT gateway's ID: one alarm per NAT gateway.
	DimNATGateway = "NatGatewayId"
)

// Alarm is one recommended alarm: the metric it watches and why someone is paged for it.
type Alarm struct {
	// Name is the alarm's name after "webtier-" (NAT alarms: after "webtier-<nat>-").
	Name string
	// Namespace and Metric are the CloudWatch metric.
	Namespace, Metric string
	// Statistic is "Sum", "Minimum", "Maximum", "Average" or a percentile ("p90").
	Statistic string
	// Dimensions are the dimensions' names, each naming the stack's resource of its kind.
	Dimensions []string
	// Comparison is CloudWatch's comparison operator.
	Comparison string
	// Why says what has gone wrong when the alarm fires.
	Why string
}

// Alarms are the recommended alarms of the stack's services, in the order they are built.
var Alarms = []Alarm{
	{"alb-elb-5xx", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "Sum", []string{DimLoadBalancer}, "GreaterThanThreshold",
		"the load balancer itself answers 5xx: no healthy target, or targets closing connections"},
	{"alb-target-5xx", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum", []string{DimLoadBalancer, DimTargetGroup}, "GreaterThanThreshold",
		"the web servers answer 5xx: PHP errors, the database unreachable"},
	{"alb-unhealthy-hosts", "AWS/ApplicationELB", "UnHealthyHostCount", "Maximum", []string{DimLoadBalancer, DimTargetGroup}, "GreaterThanThreshold",
		"a web server fails its health checks"},
	{"alb-healthy-hosts-low", "AWS/ApplicationELB", "HealthyHostCount", "Minimum", []string{DimLoadBalancer, DimTargetGroup}, "LessThanThreshold",
		"fewer healthy web servers than the group's minimum: the site runs without its spare capacity"},
	{"alb-target-response-time", "AWS/ApplicationELB", "TargetResponseTime", "p90", []string{DimLoadBalancer, DimTargetGroup}, "GreaterThanThreshold",
		"the web servers answer slowly"},
	{"db-free-storage", "AWS/RDS", "FreeStorageSpace", "Minimum", []string{DimDBInstance}, "LessThanThreshold",
		"the database is running out of storage"},
	{"db-cpu", "AWS/RDS", "CPUUtilization", "Average", []string{DimDBInstance}, "GreaterThanThreshold",
		"the database's CPU is saturated"},
	{"db-freeable-memory", "AWS/RDS", "FreeableMemory", "Minimum", []string{DimDBInstance}, "LessThanThreshold",
		"the database is short of memory"},
	{"db-connections", "AWS/RDS", "DatabaseConnections", "Maximum", []string{DimDBInstance}, "GreaterThanThreshold",
		"more connections than the web servers open: a leak, or a client that is not the site"},
	{"port-allocation", "AWS/NATGateway", "ErrorPortAllocation", "Sum", []string{DimNATGateway}, "GreaterThanThreshold",
		"the NAT gateway could not allocate a source port: connections to the repositories fail"},
	{"packets-dropped", "AWS/NATGateway", "PacketsDropCount", "Sum", []string{DimNATGateway}, "GreaterThanThreshold",
		"the NAT gateway drops packets"},
}

// PerNAT reports whether the alarm is made once per NAT gateway.
func (a Alarm) PerNAT() bool {
	for _, d := range a.Dimensions {
		if d == DimNATGateway {
			return true
		}
	}
	return false
}

// AlarmTopic is the SNS topic every alarm and event notifies.
const AlarmTopic = "webtier-alarms"

// AlarmPrefix begins every alarm's name.
const AlarmPrefix = "webtier-"

// AlarmName is the name of the alarm a for the NAT gateway nat ("" for the others).
func (a Alarm) AlarmName(nat string) string {
	if nat != "" {
		return AlarmPrefix + nat + "-" + a.Name
	}
	return AlarmPrefix + a.Name
}

// DBEventCategories are the RDS event categories the database's event subscription sends to
// the topic: a Multi-AZ failover, a failure of the instance, storage running low.
var DBEventCategories = []string{"failover", "failure", "low storage"}

// LaunchFailedEvent is the EventBridge detail type Auto Scaling sends when it cannot launch
// an instance ("EC2 Instance Launch Unsuccessful", source aws.autoscaling).
const LaunchFailedEvent = "EC2 Instance Launch Unsuccessful"

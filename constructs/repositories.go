package constructs

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/routetable"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpcendpoint"

	"github.com/webtier/webtier/rules"
)

// S3GatewayEndpointProps places the S3 gateway endpoint of the package repositories.
type S3GatewayEndpointProps struct {
	// Network holds the VPC and the web subnets' route tables the endpoint's routes go into.
	// default: none (required)
	Network *Network
	// Region names the service (com.amazonaws.REGION.s3) and the repository bucket.
	// default: none (required)
	Region string
}

// NewS3GatewayEndpoint builds the gateway endpoint through which web servers download their
// packages without NAT: AWS adds a route to the region's S3 prefix list in each web route
// table, and the endpoint policy lets through reads of the Amazon Linux 2023 repository
// bucket only (rules.RepoEndpointPolicy).
func NewS3GatewayEndpoint(scope constructs.Construct, id string, p S3GatewayEndpointProps) vpcendpoint.VpcEndpoint {
	s := scopeOf(scope, id)
	var tables []*string
	for _, rt := range p.Network.WebRouteTables {
		tables = append(tables, routetable.RouteTable.Id(rt))
	}
	return named(vpcendpoint.NewVpcEndpoint(s, str("s3"), &vpcendpoint.VpcEndpointConfig{
		VpcId:           p.Network.VPC.Id(),
		ServiceName:     str("com.amazonaws." + p.Region + ".s3"),
		VpcEndpointType: str("Gateway"),
		RouteTableIds:   ptrs(tables),
		Policy:          str(rules.RepoEndpointPolicy(p.Region)),
		Tags:            tags("webtier-s3", string(rules.S3Gateway)),
	}), "s3")
}

// Command floor is the jsii start-up floor for the synth benchmark: an app that declares only
// the AWS provider, so its time is what any cdktf Go app with these bindings pays.
package main

import (
	"os"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

func main() {
	out := "cdktf.out"
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: jsii.String(out)})
	stack := cdktf.NewTerraformStack(app, jsii.String("floor"))
	provider.NewAwsProvider(stack, jsii.String("aws"), &provider.AwsProviderConfig{Region: jsii.String("ap-northeast-2")})
	app.Synth()
}

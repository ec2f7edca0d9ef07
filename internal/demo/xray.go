package demo

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/aws/smithy-go"
)

// setUpXRay creates what the bootcamp created with the AWS CLI: the sampling rule of
// aws/json/xray.json and the group "Cruddur". Both may exist from an earlier run.
func setUpXRay(ctx context.Context, endpoint string) error {
	client := xray.New(xray.Options{Region: Region, BaseEndpoint: aws.String(endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey, Source: "lookout demo"}, nil
		})})
	_, err := client.CreateSamplingRule(ctx, &xray.CreateSamplingRuleInput{SamplingRule: &types.SamplingRule{
		RuleName: aws.String("Cruddur"), ResourceARN: aws.String("*"), Priority: aws.Int32(9000), FixedRate: 0.1,
		ReservoirSize: 5, ServiceName: aws.String("backend-flask"), ServiceType: aws.String("*"), Host: aws.String("*"),
		HTTPMethod: aws.String("*"), URLPath: aws.String("*"), Version: aws.Int32(1),
	}})
	if err != nil && !alreadyExists(err) {
		return err
	}
	_, err = client.CreateGroup(ctx, &xray.CreateGroupInput{GroupName: aws.String("Cruddur"),
		FilterExpression: aws.String(`service("backend-flask")`)})
	if err != nil && !alreadyExists(err) {
		return err
	}
	return nil
}

// alreadyExists reports X-Ray's answer to creating what exists: InvalidRequestException.
func alreadyExists(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "InvalidRequestException" && strings.Contains(api.ErrorMessage(), "already exists")
}

package verify

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// routeTableOf resolves a route_table_id: a route table, or a VPC's main table by
// ${aws_vpc.X.main_route_table_id} or default_route_table_id.
func (l *loader) routeTableOf(f field) *RouteTable {
	r, attr := f.ref("aws_route_table", "aws_default_route_table", "aws_vpc")
	switch {
	case r == nil:
		return nil
	case r.Type != "aws_vpc":
		return l.tables[r.Addr]
	case attr == "main_route_table_id" || attr == "default_route_table_id":
		if v := l.vpcs[r.Addr]; v != nil {
			return v.Main
		}
		return nil
	}
	f.fail("refers to %s.%s; expected a route table", r.Addr, attr)
	return nil
}

// tableByID is the route table whose AWS ID is id; none is a load error as subnetByID's.
func (l *loader) tableByID(addr, attr, id string) *RouteTable {
	for _, k := range slices.Sorted(maps.Keys(l.tables)) {
		if t := l.tables[k]; t.ID != "" && t.ID == id {
			return t
		}
	}
	l.failAt(addr, attr)("%q names no aws_route_table or aws_default_route_table of the stack", id)
	return nil
}

func (l *loader) loadRouteTables() {
	l.each(func(r *resource) {
		var v *VPC
		if r.Type == "aws_default_route_table" {
			vr, attr := l.attr(r, "default_route_table_id").ref("aws_vpc")
			if vr == nil {
				return
			}
			if v = l.vpcs[vr.Addr]; v == nil {
				return
			}
			if attr != "default_route_table_id" && attr != "main_route_table_id" {
				l.attr(r, "default_route_table_id").fail("refers to %s.%s; expected its default_route_table_id", vr.Addr, attr)
			}
		} else if v = l.vpcOf(l.attr(r, "vpc_id")); v == nil {
			return
		}
		t := &RouteTable{Addr: r.Addr, ID: awsID(r), VPC: v}
		if r.Type == "aws_default_route_table" {
			l.makeMain(t)
		}
		for _, blk := range l.attr(r, "route").list() {
			if rt, ok := l.routeDest(blk, "cidr_block"); ok {
				rt.Addr = r.Addr + " " + blk.path
				l.addRoute(t, blk, rt)
			}
		}
		l.tables[r.Addr] = t
	}, "aws_route_table", "aws_default_route_table")
	l.each(func(r *resource) {
		v := l.vpcOf(l.attr(r, "vpc_id"))
		t := l.routeTableOf(l.attr(r, "route_table_id"))
		if v == nil || t == nil {
			return
		}
		v.Main = t
		for _, s := range l.n.Subnets {
			if s.VPC == v && l.tableOf[s] == "" {
				s.Routes = t
			}
		}
	}, "aws_main_route_table_association")
	l.deployedRouteTables()
}

// makeMain makes t the main route table of its VPC (the one AWS made with it, which t now
// manages): every subnet of the VPC is routed by it until an association says otherwise.
func (l *loader) makeMain(t *RouteTable) {
	v := t.VPC
	t.Routes = v.Main.Routes
	v.Main = t
	for _, s := range l.n.Subnets {
		if s.VPC == v {
			s.Routes = t
		}
	}
}

// routeDest reads a route's destination into a new route: an IPv4 CIDR, or a managed prefix
// list of the stack with its CIDRs. IPv6 destinations, and prefix lists the stack does not
// hold, are noted and skipped (ok false without a problem).
func (l *loader) routeDest(f field, key string) (*Route, bool) {
	if d := f.sub(key); d.set() {
		p, ok := d.prefix()
		return &Route{Dest: p}, ok
	}
	if pl := f.sub("destination_prefix_list_id"); pl.set() {
		if s, _ := pl.v.(string); strings.Contains(s, "${") {
			if r, _ := pl.ref("aws_ec2_managed_prefix_list"); r != nil {
				return &Route{List: r.Addr, ListCIDRs: l.lists[r.Addr]}, true
			}
			return nil, false
		}
		for _, r := range l.s.byType["aws_ec2_managed_prefix_list"] {
			if id, _ := r.Attrs["id"].(string); id != "" && id == pl.v {
				return &Route{List: r.Addr, ListCIDRs: l.lists[r.Addr]}, true
			}
		}
		return l.routeToList(where(f), fmt.Sprint(pl.v))
	}
	return nil, false
}

// routeToList is a new route to the prefix list of the stack whose AWS ID is id; a list the
// stack does not hold is noted, with where the route names it, and the route is not followed.
func (l *loader) routeToList(where, id string) (*Route, bool) {
	for _, pl := range l.d.PrefixLists {
		if pl.ID == id {
			return &Route{List: pl.Addr, ListCIDRs: l.lists[pl.Addr]}, true
		}
	}
	l.n.Notes = append(l.n.Notes, fmt.Sprintf("%s: a route to the prefix list %v is not followed (its CIDRs are not in the stack)", where, id))
	return nil, false
}

func (l *loader) loadRoutes() {
	l.each(func(r *resource) {
		t := l.routeTableOf(l.attr(r, "route_table_id"))
		f := whole(l, r)
		if rt, ok := l.routeDest(f, "destination_cidr_block"); t != nil && ok {
			rt.Addr = r.Addr
			l.addRoute(t, f, rt)
		}
	}, "aws_route")
	l.each(func(r *resource) {
		if l.attr(r, "gateway_id").set() && !l.attr(r, "subnet_id").set() {
			return // an edge association of a gateway: not a subnet's table
		}
		s := l.subnetOf(l.attr(r, "subnet_id"))
		t := l.routeTableOf(l.attr(r, "route_table_id"))
		if s == nil || t == nil {
			return
		}
		l.associateTable(s, t, l.attr(r, "subnet_id").fail)
	}, "aws_route_table_association")
	l.deployedAssociations()
}

// associateTable routes s by t; a subnet has one explicit association at most.
func (l *loader) associateTable(s *Subnet, t *RouteTable, fail failure) {
	if prev := l.tableOf[s]; prev != "" {
		fail("%s is already associated with %s", s.Addr, prev)
		return
	}
	l.tableOf[s] = t.Addr
	s.Routes = t
}

// routeTargets are the attributes that name a route's target, with the kinds they refer to.
var routeTargets = []struct {
	key   string
	types []string
}{
	{"gateway_id", []string{"aws_internet_gateway", "aws_vpn_gateway"}},
	{"nat_gateway_id", []string{"aws_nat_gateway"}},
	{"vpc_endpoint_id", []string{"aws_vpc_endpoint"}},
	{"transit_gateway_id", []string{"aws_ec2_transit_gateway"}},
	{"vpc_peering_connection_id", []string{"aws_vpc_peering_connection"}},
	{"network_interface_id", []string{"aws_network_interface"}},
	{"egress_only_gateway_id", []string{"aws_egress_only_internet_gateway"}},
	{"carrier_gateway_id", []string{"aws_ec2_carrier_gateway"}},
	{"local_gateway_id", []string{"aws_ec2_local_gateway"}},
	{"core_network_arn", []string{"aws_networkmanager_core_network"}},
	{"instance_id", []string{"aws_instance"}},
}

// addRoute reads the target of the route in f into rt (its destination read) and adds it to t.
func (l *loader) addRoute(t *RouteTable, f field, rt *Route) {
	addr := rt.Addr
	found := 0
	for _, tg := range routeTargets {
		v := f.sub(tg.key)
		if !v.set() {
			continue
		}
		found++
		if s, _ := v.v.(string); s == "local" {
			rt.Kind, rt.Target = TargetLocal, "local"
			continue
		}
		res, _ := v.ref(tg.types...)
		if res == nil {
			return
		}
		rt.Target = res.Addr
		switch res.Type {
		case "aws_internet_gateway":
			rt.Kind = TargetIGW
		case "aws_nat_gateway":
			rt.Kind, rt.NAT = TargetNAT, l.nats[res.Addr]
		case "aws_vpc_endpoint":
			rt.Kind = TargetOther
			if gatewayType(res) {
				rt.Kind = TargetGateway
			}
		default:
			rt.Kind = TargetOther
		}
	}
	if found != 1 {
		l.errs.add("%s: expected exactly one route target (%s), got %d", addr, "gateway_id, nat_gateway_id, ...", found)
		return
	}
	l.appendRoute(t, rt)
}

// appendRoute adds rt (its destination and target read) to t, which may hold one route to a
// destination.
func (l *loader) appendRoute(t *RouteTable, rt *Route) {
	for _, o := range t.Routes {
		if o.Dest == rt.Dest && o.List == rt.List {
			l.errs.add("%s: %s already has a route to %s (%s)", rt.Addr, t.Addr, rt.dest(), o.Addr)
			return
		}
	}
	t.Routes = append(t.Routes, rt)
}

// gatewayType reports whether a VPC endpoint is a gateway endpoint (the type AWS assumes when
// none is given).
func gatewayType(r *resource) bool {
	typ, _ := r.Attrs["vpc_endpoint_type"].(string)
	return typ == "" || strings.EqualFold(typ, "Gateway")
}

// An 802.11ax rate-adaptation scenario: saturated UDP uplink from n stations to one access point.
//
// 20 MHz channel at 5 GHz, one spatial stream, 800 ns guard interval, 12 HE MCS: what
// agentax.extensions.IEEE_802_11_ax_RA assumes. Every station is `--distance` metres from the
// access point; with `--speed` > 0 it moves straight away from it at that speed. The stations'
// rate manager is chosen by `--manager`:
//   constant (with --mcs), ideal, minstrel-ht, thompson-sampling (ns-3's own managers), or
//   agentax (agentax::AgentaxWifiManager, which asks an agentax bridge at --endpoint).
// Prints one JSON line with the throughput received at the access point.
//
// Build: g++ -std=c++17 wifi_ra.cc agentax-wifi-manager.cc $(pkg-config --cflags --libs
//   ns3-core ns3-network ns3-wifi ns3-mobility ns3-internet ns3-applications libzmq)
// (`make ns3-scenario` does it).

#include "agentax-wifi-manager.h"

#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/mobility-module.h"
#include "ns3/network-module.h"
#include "ns3/wifi-module.h"

#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>
#include <map>
#include <sstream>
#include <string>

using namespace ns3;

namespace
{

const uint32_t kPayloadBytes = 1472;  // the largest UDP payload that fits a 1500-byte IP packet
const double kOfferedLoadMbps = 200;  // per station: above the 143.4 Mb/s of HE MCS 11 at 20 MHz
const uint16_t kFirstPort = 9000;

struct Options
{
    uint32_t stations = 1;
    double distance = 10;    // m
    double speed = 0;        // m/s, away from the access point
    double simTime = 5;      // s of measured traffic
    double warmup = 0.5;     // s before traffic starts (association, block-ack agreement)
    std::string manager = "constant";
    uint32_t mcs = 0;        // HE MCS of the constant-rate manager
    std::string endpoint = "ipc:///tmp/agentax-bridge";
    std::string observations = "IEEE_802_11_ax_RA";  // what the agentax manager sends
    uint32_t run = 1;        // ns-3 RNG run number (and agentax instance seed)
};

// Sets the remote station manager named on the command line, or aborts with the choices.
void
SetManager(WifiHelper& wifi, const Options& o)
{
    if (o.manager == "constant")
    {
        NS_ABORT_MSG_IF(o.mcs > 11, "--mcs must be an HE MCS in 0..11, got " << o.mcs);
        const std::string mode = "HeMcs" + std::to_string(o.mcs);
        wifi.SetRemoteStationManager("ns3::ConstantRateWifiManager",
                                     "DataMode", StringValue(mode),
                                     "ControlMode", StringValue(mode));
    }
    else if (o.manager == "ideal")
    {
        wifi.SetRemoteStationManager("ns3::IdealWifiManager");
    }
    else if (o.manager == "minstrel-ht")
    {
        wifi.SetRemoteStationManager("ns3::MinstrelHtWifiManager");
    }
    else if (o.manager == "thompson-sampling")
    {
        wifi.SetRemoteStationManager("ns3::ThompsonSamplingWifiManager");
    }
    else if (o.manager == "agentax")
    {
        wifi.SetRemoteStationManager("ns3::AgentaxWifiManager",
                                     "Endpoint", StringValue(o.endpoint),
                                     "Seed", UintegerValue(o.run),
                                     "NWifi", UintegerValue(o.stations),
                                     "Observations", StringValue(o.observations));
    }
    else
    {
        NS_ABORT_MSG("unknown --manager " << o.manager
                     << "; expected constant, ideal, minstrel-ht, thompson-sampling or agentax");
    }
}

// Stations on a circle of radius `distance` around the access point (node 0 at the origin),
// still or moving radially outwards at `speed`.
void
PlaceNodes(const NodeContainer& ap, const NodeContainer& stas, const Options& o)
{
    MobilityHelper still;
    still.SetMobilityModel("ns3::ConstantPositionMobilityModel");
    still.Install(ap);
    MobilityHelper moving;
    moving.SetMobilityModel("ns3::ConstantVelocityMobilityModel");
    moving.Install(stas);
    for (uint32_t i = 0; i < stas.GetN(); ++i)
    {
        const double angle = 2 * M_PI * i / stas.GetN();
        auto model = stas.Get(i)->GetObject<ConstantVelocityMobilityModel>();
        model->SetPosition(Vector(o.distance * std::cos(angle), o.distance * std::sin(angle), 0));
        model->SetVelocity(Vector(o.speed * std::cos(angle), o.speed * std::sin(angle), 0));
    }
}

std::string
JsonString(const std::string& s)
{
    return "\"" + s + "\"";  // the values printed here never contain quotes or backslashes
}

} // namespace

int
main(int argc, char* argv[])
{
    Options o;
    CommandLine cmd(__FILE__);
    cmd.AddValue("stations", "number of stations", o.stations);
    cmd.AddValue("distance", "distance of every station from the access point (m)", o.distance);
    cmd.AddValue("speed", "speed of the stations away from the access point (m/s)", o.speed);
    cmd.AddValue("simTime", "seconds of measured traffic", o.simTime);
    cmd.AddValue("warmup", "seconds before traffic starts", o.warmup);
    cmd.AddValue("manager", "constant, ideal, minstrel-ht, thompson-sampling or agentax", o.manager);
    cmd.AddValue("mcs", "HE MCS of the constant-rate manager (0..11)", o.mcs);
    cmd.AddValue("endpoint", "ZeroMQ endpoint of the agentax bridge", o.endpoint);
    cmd.AddValue("observations", "what the agentax manager sends: IEEE_802_11_ax_RA or agent", o.observations);
    cmd.AddValue("run", "RNG run number (also the agentax instance seed)", o.run);
    cmd.Parse(argc, argv);
    NS_ABORT_MSG_IF(o.stations < 1, "--stations must be at least 1");
    NS_ABORT_MSG_IF(o.simTime <= 0, "--simTime must be positive");
    RngSeedManager::SetRun(o.run);
    const auto wallStart = std::chrono::steady_clock::now();

    NodeContainer ap(1);
    NodeContainer stas(o.stations);

    YansWifiChannelHelper channel = YansWifiChannelHelper::Default();
    YansWifiPhyHelper phy;
    phy.SetChannel(channel.Create());
    phy.Set("ChannelSettings", StringValue("{0, 20, BAND_5GHZ, 0}"));

    WifiHelper wifi;
    wifi.SetStandard(WIFI_STANDARD_80211ax);
    SetManager(wifi, o);
    WifiMacHelper mac;
    Ssid ssid("agentax");
    mac.SetType("ns3::StaWifiMac", "Ssid", SsidValue(ssid));
    NetDeviceContainer staDevices = wifi.Install(phy, mac, stas);
    // The access point sends no data, only management frames (association and block-ack
    // responses), always at the most robust rate: the managers compared are the stations'.
    wifi.SetRemoteStationManager("ns3::ConstantRateWifiManager",
                                 "DataMode", StringValue("HeMcs0"),
                                 "ControlMode", StringValue("HeMcs0"));
    mac.SetType("ns3::ApWifiMac", "Ssid", SsidValue(ssid));
    NetDeviceContainer apDevice = wifi.Install(phy, mac, ap);
    Config::Set("/NodeList/*/DeviceList/*/$ns3::WifiNetDevice/HeConfiguration/GuardInterval",
                TimeValue(NanoSeconds(800)));
    wifi.AssignStreams(NetDeviceContainer(apDevice, staDevices), o.run);

    PlaceNodes(ap, stas, o);

    InternetStackHelper stack;
    stack.Install(ap);
    stack.Install(stas);
    Ipv4AddressHelper address;
    address.SetBase("192.168.1.0", "255.255.255.0");
    Ipv4InterfaceContainer apInterface = address.Assign(apDevice);
    address.Assign(staDevices);
    // Static ARP entries: no ARP exchange whose (unicast, downlink) reply could be lost at a rate
    // a manager is still exploring; the only data frames are the stations' UDP packets.
    NeighborCacheHelper neighborCache;
    neighborCache.PopulateNeighborCache();

    const double stop = o.warmup + o.simTime;
    std::vector<Ptr<UdpServer>> servers;
    for (uint32_t i = 0; i < o.stations; ++i)
    {
        UdpServerHelper server(kFirstPort + i);
        ApplicationContainer serverApp = server.Install(ap.Get(0));
        serverApp.Start(Seconds(0));
        serverApp.Stop(Seconds(stop + 0.1));
        servers.push_back(DynamicCast<UdpServer>(serverApp.Get(0)));

        UdpClientHelper client(apInterface.GetAddress(0), kFirstPort + i);
        client.SetAttribute("MaxPackets", UintegerValue(std::numeric_limits<uint32_t>::max()));
        client.SetAttribute("Interval", TimeValue(Seconds(kPayloadBytes * 8 / (kOfferedLoadMbps * 1e6))));
        client.SetAttribute("PacketSize", UintegerValue(kPayloadBytes));
        ApplicationContainer clientApp = client.Install(stas.Get(i));
        clientApp.Start(Seconds(o.warmup));
        clientApp.Stop(Seconds(stop));
    }

    Simulator::Stop(Seconds(stop + 0.1));
    Simulator::Run();

    std::ostringstream perStation;
    double total = 0;
    for (uint32_t i = 0; i < o.stations; ++i)
    {
        const double mbps = servers[i]->GetReceived() * kPayloadBytes * 8.0 / o.simTime / 1e6;
        total += mbps;
        perStation << (i ? ", " : "") << mbps;
    }
    Simulator::Destroy();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wallStart).count();

    std::cout << "{\"manager\": " << JsonString(o.manager) << ", \"mcs\": " << o.mcs
              << ", \"stations\": " << o.stations << ", \"distance_m\": " << o.distance
              << ", \"speed_mps\": " << o.speed << ", \"sim_time_s\": " << o.simTime
              << ", \"run\": " << o.run << ", \"payload_bytes\": " << kPayloadBytes
              << ", \"channel_width_mhz\": 20, \"guard_interval_ns\": 800, \"spatial_streams\": 1"
              << ", \"throughput_mbps\": " << total << ", \"per_station_mbps\": [" << perStation.str()
              << "], \"wall_time_s\": " << wall << "}" << std::endl;
    return 0;
}

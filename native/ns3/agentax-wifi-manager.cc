#include "agentax-wifi-manager.h"

#include "ns3/he-phy.h"
#include "ns3/log.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
#include "ns3/uinteger.h"
#include "ns3/wifi-phy.h"

#include <msgpack.hpp>

#include <vector>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("AgentaxWifiManager");
NS_OBJECT_ENSURE_REGISTERED(AgentaxWifiManager);

namespace
{

const int kProtocolVersion = 1;  // a version agentax.bridge serves (sample needs no later one)
const uint8_t kNMcs = 12;        // HE MCS 0..11

struct AgentaxWifiStation : public WifiRemoteStation
{
    int64_t instance = -1;  // the bridge's instance id, -1 before Connect
    uint8_t mcs = 0;
    double lastTime = 0;    // time of the previous outcome reported to the bridge (s)
};

using Packer = msgpack_packer_t;

void
PackHeader(Packer& pk, const char* command, uint32_t nFields)
{
    pk.pack_map(2 + nFields);
    pk.pack("version");
    pk.pack(kProtocolVersion);
    pk.pack("command");
    pk.pack(command);
}

// `key: [value]`, one station's value of a batched field.
template <typename T>
void
PackOne(Packer& pk, const char* key, T value)
{
    pk.pack(key);
    pk.pack_array(1);
    pk.pack(value);
}

// The first element of the reply's list `key`; aborts with the bridge's message on an error reply.
int64_t
FirstOf(const std::string& reply, const char* key)
{
    msgpack::object_handle handle = msgpack::unpack(reply.data(), reply.size());
    auto fields = handle.get().as<std::map<std::string, msgpack::object>>();
    if (!fields.count("ok") || !fields["ok"].as<bool>())
    {
        std::string error = fields.count("error") ? fields["error"].as<std::string>() : "?";
        std::string message = fields.count("message") ? fields["message"].as<std::string>() : "";
        NS_FATAL_ERROR("agentax bridge refused the request: " << error << ": " << message);
    }
    return fields.at(key).as<std::vector<int64_t>>().at(0);
}

} // namespace

TypeId
AgentaxWifiManager::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::AgentaxWifiManager")
            .SetParent<WifiRemoteStationManager>()
            .SetGroupName("Wifi")
            .AddConstructor<AgentaxWifiManager>()
            .AddAttribute("Endpoint",
                          "ZeroMQ endpoint of the agentax bridge",
                          StringValue("ipc:///tmp/agentax-bridge"),
                          MakeStringAccessor(&AgentaxWifiManager::m_endpoint),
                          MakeStringChecker())
            .AddAttribute("Observations",
                          "what the bridge's agent reads: IEEE_802_11_ax_RA (the extension's raw "
                          "observations) or agent (n_successful, n_failed, delta_time, context)",
                          StringValue("IEEE_802_11_ax_RA"),
                          MakeStringAccessor(&AgentaxWifiManager::m_observations),
                          MakeStringChecker())
            .AddAttribute("Seed",
                          "seed of the agent instances (station k of this manager gets Seed * 1000 + k)",
                          UintegerValue(1),
                          MakeUintegerAccessor(&AgentaxWifiManager::m_seed),
                          MakeUintegerChecker<uint32_t>())
            .AddAttribute("NWifi",
                          "the n_wifi observation: number of stations sharing the channel",
                          UintegerValue(1),
                          MakeUintegerAccessor(&AgentaxWifiManager::m_nWifi),
                          MakeUintegerChecker<uint32_t>(1))
            .AddAttribute("Cw",
                          "the cw observation: contention window",
                          UintegerValue(15),
                          MakeUintegerAccessor(&AgentaxWifiManager::m_cw),
                          MakeUintegerChecker<uint32_t>())
            .AddAttribute("TimeoutMs",
                          "how long to wait for each reply of the bridge before aborting",
                          UintegerValue(60000),
                          MakeUintegerAccessor(&AgentaxWifiManager::m_timeoutMs),
                          MakeUintegerChecker<uint32_t>(1));
    return tid;
}

AgentaxWifiManager::AgentaxWifiManager()
    : m_context(1)
{
}

AgentaxWifiManager::~AgentaxWifiManager() = default;

zmq::socket_t&
AgentaxWifiManager::Socket()
{
    if (!m_socket)
    {
        m_socket = std::make_unique<zmq::socket_t>(m_context, zmq::socket_type::req);
        m_socket->set(zmq::sockopt::rcvtimeo, static_cast<int>(m_timeoutMs));
        m_socket->set(zmq::sockopt::sndtimeo, static_cast<int>(m_timeoutMs));
        m_socket->set(zmq::sockopt::linger, 0);
        m_socket->connect(m_endpoint);
    }
    return *m_socket;
}

std::string
AgentaxWifiManager::Request(const std::string& request)
{
    zmq::socket_t& socket = Socket();
    if (!socket.send(zmq::buffer(request), zmq::send_flags::none))
    {
        NS_FATAL_ERROR("agentax bridge at " << m_endpoint << " took no request within " << m_timeoutMs << " ms");
    }
    zmq::message_t reply;
    if (!socket.recv(reply, zmq::recv_flags::none))
    {
        NS_FATAL_ERROR("agentax bridge at " << m_endpoint << " did not answer within " << m_timeoutMs
                                            << " ms (is `python -m agentax.bridge` running there?)");
    }
    return reply.to_string();
}

WifiRemoteStation*
AgentaxWifiManager::DoCreateStation() const
{
    return new AgentaxWifiStation();
}

void
AgentaxWifiManager::Connect(WifiRemoteStation* st)
{
    auto station = static_cast<AgentaxWifiStation*>(st);
    msgpack::sbuffer buffer;
    Packer pk(buffer);
    PackHeader(pk, "create", 1);
    PackOne(pk, "seeds", static_cast<uint64_t>(m_seed) * 1000 + m_nCreated++);
    station->instance = FirstOf(Request(std::string(buffer.data(), buffer.size())), "ids");
    Decide(st, 0, 0);  // the first sample of an instance only samples
}

void
AgentaxWifiManager::Decide(WifiRemoteStation* st, uint16_t nSuccessful, uint16_t nFailed)
{
    auto station = static_cast<AgentaxWifiStation*>(st);
    if (station->instance < 0)
    {
        return;  // a management frame's outcome, before the agent chose any MCS
    }
    msgpack::sbuffer buffer;
    Packer pk(buffer);
    PackHeader(pk, "sample", 3);
    PackOne(pk, "ids", station->instance);
    PackObservations(pk, st, nSuccessful, nFailed);
    const int64_t mcs = FirstOf(Request(std::string(buffer.data(), buffer.size())), "actions");
    NS_ABORT_MSG_IF(mcs < 0 || mcs >= kNMcs, "agentax bridge answered MCS " << mcs << ", expected 0.." << kNMcs - 1);
    station->mcs = static_cast<uint8_t>(mcs);
}

void
AgentaxWifiManager::PackObservations(Packer& pk, WifiRemoteStation* st, uint16_t nSuccessful, uint16_t nFailed)
{
    auto station = static_cast<AgentaxWifiStation*>(st);
    const double now = Simulator::Now().GetSeconds();
    pk.pack("observations");
    if (m_observations == "agent")
    {
        pk.pack_map(3);
        PackOne(pk, "n_successful", nSuccessful);
        PackOne(pk, "n_failed", nFailed);
        PackOne(pk, "delta_time", now - station->lastTime);
        pk.pack("shared");
        pk.pack_map(1);
        pk.pack("context");
        pk.pack_array(kNMcs);
        for (uint8_t mcs = 0; mcs < kNMcs; ++mcs)
        {
            pk.pack(HePhy::GetHeMcs(mcs).GetDataRate(20, 800, 1) / 1e6);  // Mb/s
        }
    }
    else
    {
        NS_ABORT_MSG_IF(m_observations != "IEEE_802_11_ax_RA",
                        "AgentaxWifiManager::Observations is " << m_observations
                                                                << ", expected IEEE_802_11_ax_RA or agent");
        pk.pack_map(7);
        PackOne(pk, "time", now);
        PackOne(pk, "last_time", station->lastTime);
        PackOne(pk, "n_successful", nSuccessful);
        PackOne(pk, "n_failed", nFailed);
        PackOne(pk, "n_wifi", m_nWifi);
        PackOne(pk, "power", GetPhy()->GetTxPowerEnd());
        PackOne(pk, "cw", m_cw);
        pk.pack("shared");
        pk.pack_map(0);
    }
    station->lastTime = now;
}

WifiTxVector
AgentaxWifiManager::DoGetDataTxVector(WifiRemoteStation* st, uint16_t allowedWidth)
{
    auto station = static_cast<AgentaxWifiStation*>(st);
    if (station->instance < 0)
    {
        Connect(st);
    }
    WifiMode mode = HePhy::GetHeMcs(station->mcs);
    return WifiTxVector(mode,
                        GetDefaultTxPowerLevel(),
                        GetPreambleForTransmission(mode.GetModulationClass(), GetShortPreambleEnabled()),
                        ConvertGuardIntervalToNanoSeconds(mode,
                                                          GetShortGuardIntervalSupported(st),
                                                          NanoSeconds(GetGuardInterval(st))),
                        1,
                        1,
                        0,
                        GetChannelWidthForTransmission(mode, std::min(allowedWidth, GetChannelWidth(st))),
                        GetAggregation(st));
}

WifiTxVector
AgentaxWifiManager::DoGetRtsTxVector(WifiRemoteStation* st)
{
    WifiMode mode = GetDefaultMode();
    return WifiTxVector(mode,
                        GetDefaultTxPowerLevel(),
                        GetPreambleForTransmission(mode.GetModulationClass(), GetShortPreambleEnabled()),
                        800,
                        1,
                        1,
                        0,
                        GetChannelWidthForTransmission(mode, GetChannelWidth(st)),
                        GetAggregation(st));
}

void
AgentaxWifiManager::DoReportAmpduTxStatus(WifiRemoteStation* st,
                                          uint16_t nSuccessfulMpdus,
                                          uint16_t nFailedMpdus,
                                          double /* rxSnr */,
                                          double /* dataSnr */,
                                          uint16_t /* dataChannelWidth */,
                                          uint8_t /* dataNss */)
{
    Decide(st, nSuccessfulMpdus, nFailedMpdus);
}

void
AgentaxWifiManager::DoReportDataOk(WifiRemoteStation* st, double, WifiMode, double, uint16_t, uint8_t)
{
    Decide(st, 1, 0);
}

void
AgentaxWifiManager::DoReportDataFailed(WifiRemoteStation* st)
{
    Decide(st, 0, 1);
}

// Outcomes the agent does not learn from: the last failure was reported by DoReportDataFailed,
// RTS/CTS frames go at the default (non-HT) rate, and received frames say nothing of this
// station's transmissions.
void
AgentaxWifiManager::DoReportFinalDataFailed(WifiRemoteStation*)
{
}

void
AgentaxWifiManager::DoReportRtsFailed(WifiRemoteStation*)
{
}

void
AgentaxWifiManager::DoReportRtsOk(WifiRemoteStation*, double, WifiMode, double)
{
}

void
AgentaxWifiManager::DoReportFinalRtsFailed(WifiRemoteStation*)
{
}

void
AgentaxWifiManager::DoReportRxOk(WifiRemoteStation*, double, WifiMode)
{
}

} // namespace ns3

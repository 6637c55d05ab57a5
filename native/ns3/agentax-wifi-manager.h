// A WifiRemoteStationManager that lets an agentax agent pick each station's HE MCS.
//
// Every station gets its own agent instance in an agentax bridge (`python -m agentax.bridge`),
// reached over ZeroMQ with msgpack messages (protocol version 1, see docs/ns3.rst). After each
// transmission outcome (an A-MPDU's block ack, a single MPDU's ack or its failure) the manager
// sends the numbers of MPDUs that got through and that failed (the outcome of the MCS in use)
// and receives the MCS the station uses from then on, as ns-3's ThompsonSamplingWifiManager
// updates its choice after each report. The observations
// (attribute "Observations") are either the raw ones of agentax.extensions.IEEE_802_11_ax_RA
// ("IEEE_802_11_ax_RA": time, last_time, n_successful, n_failed, n_wifi, power, cw) or a bandit
// agent's own ("agent": n_successful, n_failed, delta_time, and the 12 HE rates as context), for a
// bridge without an extension. Written against ns-3.37's interface.

#ifndef AGENTAX_WIFI_MANAGER_H
#define AGENTAX_WIFI_MANAGER_H

#include "ns3/wifi-remote-station-manager.h"

#include <msgpack.hpp>
#include <zmq.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace ns3
{

using msgpack_packer_t = msgpack::packer<msgpack::sbuffer>;

class AgentaxWifiManager : public WifiRemoteStationManager
{
  public:
    static TypeId GetTypeId();
    AgentaxWifiManager();
    ~AgentaxWifiManager() override;

  private:
    WifiRemoteStation* DoCreateStation() const override;
    WifiTxVector DoGetDataTxVector(WifiRemoteStation* station, uint16_t allowedWidth) override;
    WifiTxVector DoGetRtsTxVector(WifiRemoteStation* station) override;
    void DoReportAmpduTxStatus(WifiRemoteStation* station,
                               uint16_t nSuccessfulMpdus,
                               uint16_t nFailedMpdus,
                               double rxSnr,
                               double dataSnr,
                               uint16_t dataChannelWidth,
                               uint8_t dataNss) override;
    void DoReportDataOk(WifiRemoteStation* station,
                        double ackSnr,
                        WifiMode ackMode,
                        double dataSnr,
                        uint16_t dataChannelWidth,
                        uint8_t dataNss) override;
    void DoReportDataFailed(WifiRemoteStation* station) override;
    void DoReportFinalDataFailed(WifiRemoteStation* station) override;
    void DoReportRtsFailed(WifiRemoteStation* station) override;
    void DoReportRtsOk(WifiRemoteStation* station, double ctsSnr, WifiMode ctsMode, double rtsSnr) override;
    void DoReportFinalRtsFailed(WifiRemoteStation* station) override;
    void DoReportRxOk(WifiRemoteStation* station, double rxSnr, WifiMode txMode) override;

    // Creates the station's agent instance and takes its first MCS (once per station).
    void Connect(WifiRemoteStation* station);
    // Reports an outcome of the station's current MCS and takes the next one.
    void Decide(WifiRemoteStation* station, uint16_t nSuccessful, uint16_t nFailed);
    // Sends one msgpack request and returns the reply's raw bytes; aborts on timeout or error reply.
    std::string Request(const std::string& request);
    zmq::socket_t& Socket();

    // Packs the observations of one outcome in the format of m_observations.
    void PackObservations(msgpack_packer_t& pk, WifiRemoteStation* station, uint16_t nSuccessful, uint16_t nFailed);

    std::string m_endpoint;   //!< ZeroMQ endpoint of the bridge
    std::string m_observations;  //!< "IEEE_802_11_ax_RA" or "agent"
    uint32_t m_seed;          //!< seed of the first instance; station k gets m_seed * 1000 + k
    uint32_t m_nWifi;         //!< the n_wifi observation: stations sharing the channel
    uint32_t m_cw;            //!< the cw observation: contention window
    uint32_t m_timeoutMs;     //!< how long to wait for each reply
    mutable uint32_t m_nCreated = 0;
    zmq::context_t m_context;
    std::unique_ptr<zmq::socket_t> m_socket;
};

} // namespace ns3

#endif /* AGENTAX_WIFI_MANAGER_H */
